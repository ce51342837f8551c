// Time in the plugin: one storage form, one JSON form.
//
// Storage: integer microseconds since the Unix epoch (UTC) in a 64-bit column, which behaves the
// same on SQLite (INTEGER) and PostgreSQL (BIGINT) and compares with plain `<`. JSON: RFC 3339
// UTC ("2026-11-26T09:30:00Z", with a fraction only when the value has one). Usage days: the UTC
// calendar day, as a day number (days since 1970-01-01) in memory and "YYYY-MM-DD" in storage.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "mdp/host/services.hpp"

namespace mdp::api_access {

using Micros = std::int64_t;  // microseconds since the epoch, UTC
using DayNumber = std::int32_t;  // days since 1970-01-01, UTC

inline constexpr Micros kMicrosPerSecond = 1'000'000;
inline constexpr Micros kMicrosPerDay = 86'400 * kMicrosPerSecond;

Micros to_micros(host::TimePoint t) noexcept;
inline Micros floor_seconds(Micros t) noexcept {
  const Micros r = t % kMicrosPerSecond;
  return r < 0 ? t - r - kMicrosPerSecond : t - r;
}
DayNumber day_of(Micros t) noexcept;  // floor division, correct before 1970 too

// "2026-11-26T09:30:00Z" or "2026-11-26T09:30:00.25Z".
std::string format_rfc3339(Micros t);
// "2026-11-26".
std::string format_date(DayNumber day);
// "2026-11-26" back to a day number: exactly YYYY-MM-DD, a real date, years 1970..9999;
// nullopt otherwise.
std::optional<DayNumber> parse_day(std::string_view text) noexcept;
// Strict RFC 3339 date-time: YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM), 'T'/'Z' in either case.
// Returns nullopt for anything else, including impossible dates (2026-02-30) and years outside
// 1970..9999. Fractions beyond microseconds are truncated.
std::optional<Micros> parse_rfc3339(std::string_view text) noexcept;

}  // namespace mdp::api_access
