// Which keys a list shows: search, status filter, sort and page. Shared by GET keys (strict: a
// bad parameter is a 400) and the API Keys page (lenient: a bad parameter falls back to the
// default, since it comes from a URL a person may have edited).
//
// Query parameters (both): q (search in label and preview, case-insensitive, at most 100
// characters), status (current | active | expiring_soon | rotation_due | unused | expired |
// revoked | all), sort (newest | oldest | label | last_used | expires), page (from 1), per_page
// (1 to 500; GET keys only, the page shows kPageSize).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mdp/host/http.hpp"
#include "util/time_format.hpp"

namespace mdp::api_access {

enum class KeyFilter { current, active, expiring_soon, rotation_due, unused, expired, revoked, all };
enum class KeySort { newest, oldest, label, last_used, expires };

// The admin guide's rules of thumb, which the filters and the page's marks share.
inline constexpr int kRotationDueDays = 90;   // "rotate keys every 90 days"
inline constexpr int kUnusedHintDays = 30;    // "long zero usage ... can be revoked"
inline constexpr int kExpiringSoonDays = 14;  // "expiring soon": an expiry within two weeks
inline constexpr std::size_t kMaxSearch = 100;
inline constexpr std::size_t kMaxPerPage = 500;

struct KeyQuery {
  std::string search;                 // "" for none
  KeyFilter filter = KeyFilter::all;
  KeySort sort = KeySort::newest;
  std::size_t page = 1;               // from 1
  std::optional<std::size_t> per_page;  // nullopt: every matching key

  std::size_t offset() const noexcept { return per_page ? (page - 1) * *per_page : 0; }
};

const char* to_string(KeyFilter f) noexcept;
const char* to_string(KeySort s) noexcept;
std::optional<KeyFilter> filter_from(std::string_view name) noexcept;
std::optional<KeySort> sort_from(std::string_view name) noexcept;

// A parameter that could not be read: which one and why, for a 400 `invalid_query`.
struct QueryError {
  std::string message;
};

// From a request's query parameters. `defaults` gives the values of absent parameters. Strict
// mode reports the first bad parameter; lenient mode ignores it (keeps the default).
std::optional<QueryError> parse_key_query(const std::vector<host::NameValue>& params, KeyQuery& out,
                                          bool strict);

// The time thresholds a filter compares with, computed once from "now".
struct FilterTimes {
  Micros now = 0;
  Micros expiring_before = 0;   // expires_at <= this: expiring soon
  Micros created_before = 0;    // created_at <= this: rotation due
  Micros quiet_before = 0;      // last use (or creation) <= this: unused
  static FilterTimes at(Micros now);
};

}  // namespace mdp::api_access
