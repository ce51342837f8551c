#include "app/sessions.hpp"

#include <botan/base64.h>
#include <botan/mem_ops.h>
#include <botan/system_rng.h>

namespace mdp::devhost {

namespace {
// 32 random bytes, base64url without padding: safe in a cookie and a header.
std::string random_token() {
  std::uint8_t bytes[32];
  Botan::system_rng().randomize(bytes, sizeof bytes);
  std::string s = Botan::base64_encode(bytes, sizeof bytes);
  for (char& c : s) {
    if (c == '+') c = '-';
    else if (c == '/') c = '_';
  }
  while (!s.empty() && s.back() == '=') s.pop_back();
  return s;
}
}  // namespace

std::string SessionStore::create(host::UserId user, std::string& csrf_out) {
  std::string id = random_token();
  csrf_out = random_token();
  std::lock_guard lock(mutex_);
  sessions_[id] = WebSession{user, csrf_out};
  return id;
}

std::optional<WebSession> SessionStore::find(std::string_view session_id) const {
  std::lock_guard lock(mutex_);
  auto it = sessions_.find(std::string(session_id));
  if (it == sessions_.end()) return std::nullopt;
  return it->second;
}

void SessionStore::erase(std::string_view session_id) {
  std::lock_guard lock(mutex_);
  sessions_.erase(std::string(session_id));
}

bool SessionStore::csrf_matches(const WebSession& s, std::string_view presented) noexcept {
  if (presented.size() != s.csrf_token.size() || presented.empty()) return false;
  return Botan::constant_time_compare(reinterpret_cast<const std::uint8_t*>(presented.data()),
                                      reinterpret_cast<const std::uint8_t*>(s.csrf_token.data()),
                                      presented.size());
}

}  // namespace mdp::devhost
