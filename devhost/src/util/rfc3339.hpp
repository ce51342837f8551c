// RFC 3339 date-times for the devhost: one strict, bounded, non-backtracking parser for every
// time that arrives from outside (API bodies, the test clock), and the formatter for answers.
// The plugin carries its own (plugin/src/util/time_format): a host never links plugin internals.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "mdp/host/services.hpp"

namespace mdp::devhost {

// Longest text parse_rfc3339 considers: "YYYY-MM-DDTHH:MM:SS" (19) + "." + up to 9 fraction
// digits + "+HH:MM" (6) = 35. Anything longer is refused without being scanned.
inline constexpr std::size_t kMaxRfc3339Length = 35;

inline constexpr int kMaxRfc3339Year = 2199;

// YYYY-MM-DDTHH:MM:SS[.1-9 digits](Z|+HH:MM|-HH:MM), 'T' and 'Z' in either case, a real calendar
// date (no 2026-02-30), years 1970-2199 (host::TimePoint ends in 2262). A leap second (:60)
// counts as :59. The fraction is kept to the microsecond. nullopt for anything else.
std::optional<host::TimePoint> parse_rfc3339(std::string_view text) noexcept;

// "2026-11-26T09:30:00Z" (UTC, whole seconds: the fraction is dropped).
std::string format_rfc3339(host::TimePoint t);

}  // namespace mdp::devhost
