#include "util/time_format.hpp"

#include <chrono>
#include <cstdio>

namespace mdp::api_access {

namespace {
using std::chrono::day;
using std::chrono::month;
using std::chrono::sys_days;
using std::chrono::year;
using std::chrono::year_month_day;

bool digits(std::string_view s, std::size_t pos, std::size_t n, int& out) noexcept {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}
}  // namespace

Micros to_micros(host::TimePoint t) noexcept {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

DayNumber day_of(Micros t) noexcept {
  Micros d = t / kMicrosPerDay;
  if (t % kMicrosPerDay < 0) --d;
  return static_cast<DayNumber>(d);
}

std::string format_date(DayNumber d) {
  const year_month_day ymd{sys_days{std::chrono::days{d}}};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return buf;
}

std::optional<DayNumber> parse_day(std::string_view s) noexcept {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  int v[3] = {0, 0, 0};
  const std::size_t starts[3] = {0, 5, 8}, lengths[3] = {4, 2, 2};
  for (int i = 0; i < 3; ++i)
    for (std::size_t j = 0; j < lengths[i]; ++j) {
      const char c = s[starts[i] + j];
      if (c < '0' || c > '9') return std::nullopt;
      v[i] = v[i] * 10 + (c - '0');
    }
  const year_month_day ymd{std::chrono::year{v[0]}, std::chrono::month{static_cast<unsigned>(v[1])},
                           std::chrono::day{static_cast<unsigned>(v[2])}};
  if (v[0] < 1970 || !ymd.ok()) return std::nullopt;
  return static_cast<DayNumber>(sys_days{ymd}.time_since_epoch().count());
}

std::string format_rfc3339(Micros t) {
  const DayNumber d = day_of(t);
  const Micros in_day = t - static_cast<Micros>(d) * kMicrosPerDay;
  const auto secs = in_day / kMicrosPerSecond;
  auto frac = static_cast<long>(in_day % kMicrosPerSecond);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%sT%02lld:%02lld:%02lld", format_date(d).c_str(),
                static_cast<long long>(secs / 3600), static_cast<long long>(secs / 60 % 60),
                static_cast<long long>(secs % 60));
  std::string out = buf;
  if (frac != 0) {
    char f[8];
    std::snprintf(f, sizeof f, "%06ld", frac);
    std::string fs = f;
    while (!fs.empty() && fs.back() == '0') fs.pop_back();
    out += '.';
    out += fs;
  }
  out += 'Z';
  return out;
}

std::optional<Micros> parse_rfc3339(std::string_view s) noexcept {
  int y, mo, d, h, mi, se;
  if (s.size() < 20 || s.size() > 64) return std::nullopt;
  if (!digits(s, 0, 4, y) || s[4] != '-' || !digits(s, 5, 2, mo) || s[7] != '-' ||
      !digits(s, 8, 2, d) || (s[10] != 'T' && s[10] != 't') || !digits(s, 11, 2, h) ||
      s[13] != ':' || !digits(s, 14, 2, mi) || s[16] != ':' || !digits(s, 17, 2, se))
    return std::nullopt;
  if (y < 1970 || h > 23 || mi > 59 || se > 60) return std::nullopt;
  if (se == 60) se = 59;  // a leap second names the last second of its minute
  const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return std::nullopt;
  std::size_t pos = 19;
  Micros frac = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    const std::size_t start = pos;
    Micros scale = 100000;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      frac += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return std::nullopt;
  }
  if (pos >= s.size()) return std::nullopt;
  int offset_min = 0;
  if (s[pos] == 'Z' || s[pos] == 'z') {
    ++pos;
  } else if (s[pos] == '+' || s[pos] == '-') {
    int oh, om;
    if (!digits(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !digits(s, pos + 4, 2, om) || oh > 23 || om > 59)
      return std::nullopt;
    offset_min = (oh * 60 + om) * (s[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  const auto days = sys_days{ymd}.time_since_epoch().count();
  const Micros secs = static_cast<Micros>(days) * 86400 + h * 3600 + mi * 60 + se - offset_min * 60;
  return secs * kMicrosPerSecond + frac;
}

}  // namespace mdp::api_access
