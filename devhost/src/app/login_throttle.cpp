#include "app/login_throttle.hpp"

#include <algorithm>

namespace mdp::devhost {

namespace {
std::chrono::seconds seconds_until(host::TimePoint t, host::TimePoint now) {
  const auto left = std::chrono::ceil<std::chrono::seconds>(t - now);
  return std::max(left, std::chrono::seconds(1));
}
}  // namespace

bool LoginThrottle::forgotten(const Entry& e, host::TimePoint now) const noexcept {
  return e.pending == 0 && now >= e.blocked_until && now - e.last_failure >= limits_.forget_after;
}

// Past its free failures, a key lets one attempt run at a time.
bool LoginThrottle::busy(const Entry& e, const ThrottleLimits& l) noexcept {
  return e.pending > 0 && e.failures + e.pending >= l.free_failures;
}

LoginThrottle::Entry& LoginThrottle::entry(Table& t, std::string_view key, host::TimePoint now) {
  auto it = t.find(std::string(key));
  if (it != t.end()) {
    if (forgotten(it->second, now)) it->second = Entry{};
    return it->second;
  }
  if (t.size() >= limits_.max_keys) {
    // Full: forget every key that has nothing left to remember; if none, the stalest one.
    auto stalest = t.end();
    for (auto i = t.begin(); i != t.end();) {
      if (forgotten(i->second, now)) {
        i = t.erase(i);
        continue;
      }
      if (stalest == t.end() || i->second.last_failure < stalest->second.last_failure) stalest = i;
      ++i;
    }
    if (t.size() >= limits_.max_keys && stalest != t.end()) t.erase(stalest);
  }
  return t[std::string(key)];
}

std::optional<std::chrono::seconds> LoginThrottle::begin(std::string_view account,
                                                         std::string_view address,
                                                         host::TimePoint now) {
  std::lock_guard lock(mutex_);
  Entry& acc = entry(accounts_, account, now);
  Entry& addr = entry(addresses_, address, now);
  const host::TimePoint until = std::max(acc.blocked_until, addr.blocked_until);
  if (now < until) return seconds_until(until, now);
  if (busy(acc, limits_.account) || busy(addr, limits_.address)) return std::chrono::seconds(1);
  ++acc.pending;
  ++addr.pending;
  return std::nullopt;
}

void LoginThrottle::resolve(Table& t, std::string_view key) {
  auto it = t.find(std::string(key));
  if (it != t.end() && it->second.pending > 0) --it->second.pending;
}

void LoginThrottle::fail(Table& t, std::string_view key, const ThrottleLimits& l, host::TimePoint now) {
  auto it = t.find(std::string(key));
  if (it == t.end()) return;  // evicted meanwhile (the table was full)
  Entry& e = it->second;
  if (e.pending > 0) --e.pending;
  ++e.failures;
  e.last_failure = now;
  const int over = e.failures - l.free_failures;
  if (over <= 0) return;
  // first_delay * 2^(over-1), capped (the shift is capped too, so it cannot overflow).
  auto delay = l.first_delay * (std::int64_t{1} << std::min(over - 1, 30));
  if (delay > l.max_delay) delay = l.max_delay;
  e.blocked_until = std::max(e.blocked_until, now + delay);
}

void LoginThrottle::failed(std::string_view account, std::string_view address, host::TimePoint now) {
  std::lock_guard lock(mutex_);
  fail(accounts_, account, limits_.account, now);
  fail(addresses_, address, limits_.address, now);
}

void LoginThrottle::succeeded(std::string_view account, std::string_view address) {
  std::lock_guard lock(mutex_);
  auto it = accounts_.find(std::string(account));
  if (it != accounts_.end()) {
    if (it->second.pending > 1) it->second = Entry{0, it->second.pending - 1};
    else accounts_.erase(it);
  }
  resolve(addresses_, address);
}

void LoginThrottle::cancel(std::string_view account, std::string_view address) {
  std::lock_guard lock(mutex_);
  resolve(accounts_, account);
  resolve(addresses_, address);
}

}  // namespace mdp::devhost
