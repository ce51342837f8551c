#include "keys/key_query.hpp"

#include <charconv>

namespace mdp::api_access {

namespace {

constexpr std::pair<KeyFilter, const char*> kFilters[] = {
    {KeyFilter::current, "current"},         {KeyFilter::active, "active"},
    {KeyFilter::expiring_soon, "expiring_soon"}, {KeyFilter::rotation_due, "rotation_due"},
    {KeyFilter::unused, "unused"},           {KeyFilter::expired, "expired"},
    {KeyFilter::revoked, "revoked"},         {KeyFilter::all, "all"}};
constexpr std::pair<KeySort, const char*> kSorts[] = {
    {KeySort::newest, "newest"}, {KeySort::oldest, "oldest"}, {KeySort::label, "label"},
    {KeySort::last_used, "last_used"}, {KeySort::expires, "expires"}};

std::optional<std::size_t> whole_number(std::string_view s, std::size_t lo, std::size_t hi) {
  std::size_t n = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (s.empty() || ec != std::errc{} || p != s.data() + s.size() || n < lo || n > hi) return std::nullopt;
  return n;
}

std::size_t code_points(std::string_view s) {
  std::size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

}  // namespace

const char* to_string(KeyFilter f) noexcept {
  for (const auto& [v, name] : kFilters)
    if (v == f) return name;
  return "all";
}
const char* to_string(KeySort s) noexcept {
  for (const auto& [v, name] : kSorts)
    if (v == s) return name;
  return "newest";
}
std::optional<KeyFilter> filter_from(std::string_view name) noexcept {
  for (const auto& [v, n] : kFilters)
    if (name == n) return v;
  return std::nullopt;
}
std::optional<KeySort> sort_from(std::string_view name) noexcept {
  for (const auto& [v, n] : kSorts)
    if (name == n) return v;
  return std::nullopt;
}

std::optional<QueryError> parse_key_query(const std::vector<host::NameValue>& params, KeyQuery& out,
                                          bool strict) {
  for (const auto& [name, value] : params) {
    std::optional<QueryError> bad;
    if (name == "q") {
      if (code_points(value) > kMaxSearch || value.find('\0') != std::string::npos)
        bad = QueryError{"\"q\" must have at most 100 characters."};
      else
        out.search = value;
    } else if (name == "status") {
      if (auto f = filter_from(value)) out.filter = *f;
      else bad = QueryError{"\"status\" must be one of current, active, expiring_soon, rotation_due, unused, "
                            "expired, revoked, all."};
    } else if (name == "sort") {
      if (auto s = sort_from(value)) out.sort = *s;
      else bad = QueryError{"\"sort\" must be one of newest, oldest, label, last_used, expires."};
    } else if (name == "page") {
      if (auto n = whole_number(value, 1, 1'000'000)) out.page = *n;
      else bad = QueryError{"\"page\" must be a whole number from 1."};
    } else if (name == "per_page") {
      if (auto n = whole_number(value, 1, kMaxPerPage)) out.per_page = *n;
      else bad = QueryError{"\"per_page\" must be a whole number from 1 to 500."};
    }
    if (bad && strict) return bad;
  }
  return std::nullopt;
}

FilterTimes FilterTimes::at(Micros now) {
  FilterTimes t;
  t.now = now;
  t.expiring_before = now + kExpiringSoonDays * kMicrosPerDay;
  t.created_before = now - kRotationDueDays * kMicrosPerDay;
  t.quiet_before = now - kUnusedHintDays * kMicrosPerDay;
  return t;
}

}  // namespace mdp::api_access
