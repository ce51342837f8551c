// Small hand-written checks for the names the devhost reads from manifests and plugin
// registrations (migration file names: the SDK's migrations code). Each is one forward pass over
// a bounded text (no std::regex: its backtracking recursion can overflow the stack on long
// input), and each documents the grammar it accepts in the regular-expression notation a reader
// knows.
#pragma once

#include <cstddef>
#include <string_view>

namespace mdp::devhost::grammar {

// Longest name, version, symbol or folder a manifest or registration may use.
inline constexpr std::size_t kMaxName = 128;

constexpr bool lower_or_digit(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
constexpr bool alnum(char c) noexcept { return lower_or_digit(c) || (c >= 'A' && c <= 'Z'); }
constexpr bool digit(char c) noexcept { return c >= '0' && c <= '9'; }

// Every character satisfies `pred`, and the text is 1 to `max` characters long.
template <class Pred>
constexpr bool all_of(std::string_view s, Pred pred, std::size_t max = kMaxName) noexcept {
  if (s.empty() || s.size() > max) return false;
  for (char c : s)
    if (!pred(c)) return false;
  return true;
}

// seg(sep seg)* : non-empty segments, each satisfying `segment`, at most `max` characters in all.
template <class Segment>
constexpr bool separated(std::string_view s, char sep, Segment segment, std::size_t max = kMaxName) noexcept {
  if (s.empty() || s.size() > max) return false;
  std::size_t pos = 0;
  while (true) {
    const std::size_t end = s.find(sep, pos);
    const std::string_view part = s.substr(pos, end == std::string_view::npos ? s.npos : end - pos);
    if (part.empty() || !segment(part)) return false;
    if (end == std::string_view::npos) return true;
    pos = end + 1;
  }
}

// [a-z0-9][a-z0-9-]{0,63}
constexpr bool plugin_id(std::string_view s) noexcept {
  return !s.empty() && lower_or_digit(s[0]) &&
         all_of(s, [](char c) { return lower_or_digit(c) || c == '-'; }, 64);
}

// [0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.+-]+)?
constexpr bool semantic_version(std::string_view s) noexcept {
  if (s.size() > kMaxName) return false;
  std::size_t pos = 0;
  for (int part = 0; part < 3; ++part) {
    if (part > 0) {
      if (pos >= s.size() || s[pos] != '.') return false;
      ++pos;
    }
    const std::size_t start = pos;
    while (pos < s.size() && digit(s[pos])) ++pos;
    if (pos == start) return false;
  }
  if (pos == s.size()) return true;
  if (s[pos] != '-' && s[pos] != '+') return false;
  return all_of(s.substr(pos + 1),
                [](char c) { return alnum(c) || c == '.' || c == '+' || c == '-'; });
}

// ([0-9]{1,5})\.([0-9]{1,5}) ; the two numbers go to major and minor.
constexpr bool abi_version(std::string_view s, unsigned& major, unsigned& minor) noexcept {
  const std::size_t dot = s.find('.');
  if (dot == std::string_view::npos) return false;
  const std::string_view a = s.substr(0, dot), b = s.substr(dot + 1);
  if (!all_of(a, digit, 5) || !all_of(b, digit, 5)) return false;
  major = minor = 0;
  for (char c : a) major = major * 10 + static_cast<unsigned>(c - '0');
  for (char c : b) minor = minor * 10 + static_cast<unsigned>(c - '0');
  return true;
}

// [A-Za-z0-9_.+-]+\.so(\.[0-9]+)*  : a shared library's file name, no folder.
constexpr bool library_file(std::string_view s) noexcept {
  if (!all_of(s, [](char c) { return alnum(c) || c == '_' || c == '.' || c == '+' || c == '-'; }))
    return false;
  std::size_t end = s.size();
  while (true) {
    if (end > 3 && s.substr(end - 3, 3) == ".so") return true;
    // Drop one trailing ".<digits>" group and look again.
    std::size_t d = end;
    while (d > 0 && digit(s[d - 1])) --d;
    if (d == end || d == 0 || s[d - 1] != '.') return false;
    end = d - 1;
  }
}

// [A-Za-z_][A-Za-z0-9_]{0,127}
constexpr bool c_identifier(std::string_view s) noexcept {
  return !s.empty() && !digit(s[0]) && all_of(s, [](char c) { return alnum(c) || c == '_'; });
}

// [a-z0-9_]{1,64}
constexpr bool feature_id(std::string_view s) noexcept {
  return all_of(s, [](char c) { return lower_or_digit(c) || c == '_'; }, 64);
}

// [a-z0-9_-]{1,64}
constexpr bool tier_name(std::string_view s) noexcept {
  return all_of(s, [](char c) { return lower_or_digit(c) || c == '_' || c == '-'; }, 64);
}

// [a-z0-9_]+(\.[a-z0-9_]+)*
constexpr bool permission_name(std::string_view s) noexcept {
  return separated(s, '.', [](std::string_view p) {
    return all_of(p, [](char c) { return lower_or_digit(c) || c == '_'; });
  });
}

// [A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*  (callers refuse "." and ".." segments separately)
constexpr bool relative_folder(std::string_view s) noexcept {
  return separated(s, '/', [](std::string_view p) {
    return all_of(p, [](char c) { return alnum(c) || c == '_' || c == '.' || c == '-'; });
  });
}

// Route pattern: seg(/seg)* where seg is \{[a-z_][a-z0-9_]*\} or [A-Za-z0-9._~-]+
constexpr bool route_pattern(std::string_view s) noexcept {
  return separated(s, '/', [](std::string_view p) {
    if (p.front() == '{') {
      if (p.size() < 3 || p.back() != '}') return false;
      const std::string_view name = p.substr(1, p.size() - 2);
      return !digit(name[0]) && all_of(name, [](char c) { return lower_or_digit(c) || c == '_'; });
    }
    return all_of(p, [](char c) { return alnum(c) || c == '.' || c == '_' || c == '~' || c == '-'; });
  }, 256);
}

// Settings page path: [a-z0-9-]+(/[a-z0-9-]+)*
constexpr bool page_path(std::string_view s) noexcept {
  return separated(s, '/', [](std::string_view p) {
    return all_of(p, [](char c) { return lower_or_digit(c) || c == '-'; });
  });
}

}  // namespace mdp::devhost::grammar
