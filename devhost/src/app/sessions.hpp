// Browser sessions of the devhost: in memory (a restart logs everyone out, which is fine for a
// reference host). Ids and CSRF tokens are 256-bit values from Botan's System_RNG; lookups compare
// the CSRF token in constant time. Thread-safe.
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "mdp/host/services.hpp"

namespace mdp::devhost {

struct WebSession {
  host::UserId user_id = 0;
  std::string csrf_token;
};

class SessionStore {
 public:
  // Returns the new session id; `csrf_out` receives its CSRF token.
  std::string create(host::UserId user, std::string& csrf_out);
  std::optional<WebSession> find(std::string_view session_id) const;
  void erase(std::string_view session_id);
  // Constant-time comparison of a presented token with the session's.
  static bool csrf_matches(const WebSession& s, std::string_view presented) noexcept;

 private:
  mutable std::mutex mutex_;
  std::unordered_map<std::string, WebSession> sessions_;
};

inline constexpr const char* kSessionCookie = "mdp_session";

}  // namespace mdp::devhost
