#include "util/clinic_time.hpp"

#include <chrono>
#include <cstdio>
#include <exception>

#include <date/tz.h>

namespace mdp::api_access {

namespace {
using Seconds = std::chrono::seconds;
using SysSeconds = date::sys_time<Seconds>;

SysSeconds sys_seconds(Micros t) noexcept {
  return SysSeconds{Seconds{(t - ((t % kMicrosPerSecond + kMicrosPerSecond) % kMicrosPerSecond)) / kMicrosPerSecond}};
}

Micros to_micros(SysSeconds s) noexcept { return static_cast<Micros>(s.time_since_epoch().count()) * kMicrosPerSecond; }
}  // namespace

std::optional<ClinicZone> ClinicZone::find(std::string_view iana) noexcept {
  if (iana.empty() || iana == "UTC" || iana == "Etc/UTC") return ClinicZone();
  try {
    return ClinicZone(date::locate_zone(iana));
  } catch (const std::exception&) {
    return std::nullopt;  // unknown name, or no tz database on this system
  }
}

std::string ClinicZone::name() const { return zone_ ? std::string(zone_->name()) : "UTC"; }

std::int64_t ClinicZone::offset_seconds(Micros t) const noexcept {
  if (!zone_) return 0;
  try {
    return zone_->get_info(sys_seconds(t)).offset.count();
  } catch (...) {
    return 0;
  }
}

DayNumber ClinicZone::day_of(Micros t) const noexcept {
  return api_access::day_of(t + offset_seconds(t) * kMicrosPerSecond);
}

Micros ClinicZone::start_of_day(DayNumber d) const noexcept {
  const Micros utc_midnight = static_cast<Micros>(d) * kMicrosPerDay;
  if (!zone_) return utc_midnight;
  try {
    const date::local_seconds local{Seconds{static_cast<std::int64_t>(d) * 86'400}};
    const date::local_info info = zone_->get_info(local);
    switch (info.result) {
      case date::local_info::unique:
      case date::local_info::ambiguous:  // the earlier of the two
        return to_micros(SysSeconds{local.time_since_epoch() - info.first.offset});
      case date::local_info::nonexistent:  // midnight skipped: the day starts at the change
        return to_micros(info.first.end);
    }
  } catch (...) {
  }
  return utc_midnight;
}

std::string ClinicZone::abbreviation(Micros t) const {
  if (!zone_) return "UTC";
  try {
    return zone_->get_info(sys_seconds(t)).abbrev;
  } catch (...) {
    return name();
  }
}

std::string ClinicZone::format_rfc3339(Micros t) const {
  if (!zone_) return api_access::format_rfc3339(t);
  const std::int64_t off = offset_seconds(t);
  std::string s = api_access::format_rfc3339(t + off * kMicrosPerSecond);
  s.pop_back();  // the 'Z'
  const std::int64_t a = off < 0 ? -off : off;
  char buf[48];
  std::snprintf(buf, sizeof buf, "%c%02lld:%02lld", off < 0 ? '-' : '+', static_cast<long long>(a / 3600),
                static_cast<long long>(a / 60 % 60));
  return s + buf;
}

std::string ClinicZone::format_minutes(Micros t) const {
  const std::string local = api_access::format_rfc3339(t + offset_seconds(t) * kMicrosPerSecond);
  return local.substr(0, 10) + " " + local.substr(11, 5) + " " + abbreviation(t);
}

std::string ClinicZone::format_seconds(Micros t) const {
  const std::string local = api_access::format_rfc3339(floor_seconds(t) + offset_seconds(t) * kMicrosPerSecond);
  return local.substr(0, 10) + " " + local.substr(11, 8) + " " + abbreviation(t);
}

std::optional<DayNumber> parse_date(std::string_view s) noexcept {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  int v[3] = {0, 0, 0};
  const std::size_t starts[3] = {0, 5, 8}, lens[3] = {4, 2, 2};
  for (int i = 0; i < 3; ++i)
    for (std::size_t p = starts[i]; p < starts[i] + lens[i]; ++p) {
      if (s[p] < '0' || s[p] > '9') return std::nullopt;
      v[i] = v[i] * 10 + (s[p] - '0');
    }
  if (v[0] < 1970) return std::nullopt;
  const date::year_month_day ymd{date::year{v[0]}, date::month{static_cast<unsigned>(v[1])},
                                 date::day{static_cast<unsigned>(v[2])}};
  if (!ymd.ok()) return std::nullopt;
  return static_cast<DayNumber>(date::sys_days{ymd}.time_since_epoch().count());
}

}  // namespace mdp::api_access
