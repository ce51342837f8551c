// Failed-login throttling, per account (the e-mail as typed, lower-cased, whether or not such a
// user exists, so the answer tells nothing about which e-mails are real) and per client address.
//
// Each key counts failures. The first `free_failures` cost nothing; every further failure blocks
// the key for a delay that doubles each time (first_delay, 2x, 4x, ...) up to `max_delay`. While
// a key is blocked, a login naming it is refused with 429 and Retry-After before any password
// check. The account's cap is short (a real user is never locked out for long by someone else);
// the address's is long (one address guessing many accounts slows to a crawl). A key forgets its
// failures `forget_after` its last one. A success clears the account's count.
//
// Attempts still being checked count too: beyond the free failures a key allows one attempt at
// a time, so concurrent guesses cannot slip past the limit together. Thread-safe; memory is
// bounded by `max_keys` per table (the stalest keys go first).
#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "mdp/host/services.hpp"

namespace mdp::devhost {

struct ThrottleLimits {
  int free_failures;
  std::chrono::seconds first_delay;
  std::chrono::seconds max_delay;
};

struct LoginThrottleLimits {
  ThrottleLimits account{5, std::chrono::seconds(1), std::chrono::seconds(60)};
  ThrottleLimits address{20, std::chrono::seconds(1), std::chrono::minutes(15)};
  std::chrono::seconds forget_after = std::chrono::minutes(15);
  std::size_t max_keys = 100'000;
};

class LoginThrottle {
 public:
  explicit LoginThrottle(LoginThrottleLimits limits = {}) : limits_(limits) {}

  // Seconds to wait (>= 1) if the account or the address is blocked now; otherwise the attempt
  // is under way, and exactly one of failed / succeeded / cancel must follow.
  std::optional<std::chrono::seconds> begin(std::string_view account, std::string_view address,
                                            host::TimePoint now);
  void failed(std::string_view account, std::string_view address, host::TimePoint now);
  // The account starts afresh; the address keeps its past failures.
  void succeeded(std::string_view account, std::string_view address);
  // The attempt never ran (e.g. the password-check queue was full).
  void cancel(std::string_view account, std::string_view address);

 private:
  struct Entry {
    int failures = 0;
    int pending = 0;  // attempts begun and not yet resolved
    host::TimePoint last_failure{};
    host::TimePoint blocked_until{};
  };
  using Table = std::unordered_map<std::string, Entry>;

  Entry& entry(Table& t, std::string_view key, host::TimePoint now);
  bool forgotten(const Entry& e, host::TimePoint now) const noexcept;
  static bool busy(const Entry& e, const ThrottleLimits& l) noexcept;
  static void fail(Table& t, std::string_view key, const ThrottleLimits& l, host::TimePoint now);
  static void resolve(Table& t, std::string_view key);

  LoginThrottleLimits limits_;
  std::mutex mutex_;
  Table accounts_;
  Table addresses_;
};

}  // namespace mdp::devhost
