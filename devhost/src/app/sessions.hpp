// Browser sessions of the devhost: in memory (a restart logs everyone out, which is fine for a
// reference host). Ids and CSRF tokens are 256-bit values from Botan's System_RNG; lookups compare
// the CSRF token in constant time. Thread-safe.
//
// Lifetime, on the host's clock (the test clock under --test-clock): a session ends after
// `idle` without a request, and `absolute` after login whatever its use. A user holds at most
// `per_user` sessions: logging in once more ends that user's least recently used one.
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

struct SessionLimits {
  std::chrono::seconds idle = std::chrono::minutes(30);
  std::chrono::seconds absolute = std::chrono::hours(12);
  std::size_t per_user = 10;
};

struct WebSession {
  host::UserId user_id = 0;
  std::string csrf_token;
  host::TimePoint created_at;
  host::TimePoint last_seen;
};

class SessionStore {
 public:
  explicit SessionStore(const host::Clock& clock, SessionLimits limits = {});

  // Returns the new session id; `csrf_out` receives its CSRF token.
  std::string create(host::UserId user, std::string& csrf_out);
  // The live session with this id, its idle time restarted; nullopt if unknown or expired
  // (an expired one is forgotten on the way).
  std::optional<WebSession> find(std::string_view session_id);
  void erase(std::string_view session_id);
  // Constant-time comparison of a presented token with the session's.
  static bool csrf_matches(const WebSession& s, std::string_view presented) noexcept;

  const SessionLimits& limits() const noexcept { return limits_; }

 private:
  bool expired(const WebSession& s, host::TimePoint now) const noexcept;
  void sweep_locked(host::TimePoint now);

  const host::Clock& clock_;
  SessionLimits limits_;
  std::mutex mutex_;
  std::unordered_map<std::string, WebSession> sessions_;
  std::size_t creates_since_sweep_ = 0;
};

inline constexpr const char* kSessionCookie = "mdp_session";

}  // namespace mdp::devhost
