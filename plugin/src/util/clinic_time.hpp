// A clinic's calendar: days and times as the clinic reads them, from the IANA time zone the host
// gives (host::Clinic::time_zone). Storage stays UTC (util/time_format.hpp); this converts for
// what people see and for which calendar day a request counts in.
//
// The zone rules come from the system's tz database (/usr/share/zoneinfo, Debian's tzdata)
// through Howard Hinnant's date library (g++ 12's <chrono> has no time zone database). Its
// header stays out of this one: callers see only ClinicZone.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "util/time_format.hpp"

namespace date {
class time_zone;
}

namespace mdp::api_access {

class ClinicZone {
 public:
  // UTC: what a clinic without a time zone (an empty name) uses.
  ClinicZone() = default;

  // The zone called `iana` ("Europe/Berlin"); "" and "UTC" give UTC; nullopt when the tz
  // database has no such zone. Thread-safe; the first call reads the database (a few ms).
  static std::optional<ClinicZone> find(std::string_view iana) noexcept;

  // "Europe/Berlin", or "UTC".
  std::string name() const;
  bool is_utc() const noexcept { return zone_ == nullptr; }

  // The clinic's calendar day at `t`.
  DayNumber day_of(Micros t) const noexcept;
  // The first instant of the clinic's day `d` (local midnight, or the first valid time after it
  // when a daylight-saving change skips midnight).
  Micros start_of_day(DayNumber d) const noexcept;
  // Seconds east of UTC at `t`.
  std::int64_t offset_seconds(Micros t) const noexcept;
  // The zone's abbreviation at `t` ("CET", "NZDT"; "UTC").
  std::string abbreviation(Micros t) const;

  // RFC 3339 with the clinic's offset at `t`: "2026-11-26T10:30:00+01:00" ("...Z" for UTC).
  std::string format_rfc3339(Micros t) const;
  // For people: "2026-11-26 10:30 CET"; with seconds "2026-11-26 10:30:15 CET".
  std::string format_minutes(Micros t) const;
  std::string format_seconds(Micros t) const;
  // "2026-11-26" in the clinic's calendar.
  std::string format_day(Micros t) const { return format_date(day_of(t)); }

 private:
  explicit ClinicZone(const date::time_zone* z) : zone_(z) {}
  const date::time_zone* zone_ = nullptr;  // nullptr: UTC; else owned by the tz database (static)
};

// "YYYY-MM-DD" (a real calendar date from 1970 to 9999) as a day number; nullopt otherwise.
std::optional<DayNumber> parse_date(std::string_view text) noexcept;

}  // namespace mdp::api_access
