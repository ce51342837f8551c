#include "app/sessions.hpp"

#include <vector>

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

// Expired sessions of users who never come back are dropped every this many logins.
constexpr std::size_t kSweepEvery = 256;
}  // namespace

SessionStore::SessionStore(const host::Clock& clock, SessionLimits limits)
    : clock_(clock), limits_(limits) {}

bool SessionStore::expired(const WebSession& s, host::TimePoint now) const noexcept {
  return now - s.last_seen >= limits_.idle || now - s.created_at >= limits_.absolute;
}

void SessionStore::sweep_locked(host::TimePoint now) {
  for (auto it = sessions_.begin(); it != sessions_.end();)
    it = expired(it->second, now) ? sessions_.erase(it) : std::next(it);
}

std::string SessionStore::create(host::UserId user, std::string& csrf_out) {
  std::string id = random_token();
  csrf_out = random_token();
  const host::TimePoint now = clock_.now();
  std::lock_guard lock(mutex_);
  if (++creates_since_sweep_ >= kSweepEvery) {
    creates_since_sweep_ = 0;
    sweep_locked(now);
  }
  // The user's live sessions; beyond the bound, the least recently used ones end. A linear scan:
  // logins are rare next to requests, and the store holds a few sessions per user.
  std::vector<std::unordered_map<std::string, WebSession>::iterator> mine;
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    if (it->second.user_id != user) {
      ++it;
    } else if (expired(it->second, now)) {
      it = sessions_.erase(it);
    } else {
      mine.push_back(it++);
    }
  }
  while (!mine.empty() && mine.size() + 1 > limits_.per_user) {
    auto oldest = mine.begin();
    for (auto m = mine.begin(); m != mine.end(); ++m)
      if ((*m)->second.last_seen < (*oldest)->second.last_seen) oldest = m;
    sessions_.erase(*oldest);
    mine.erase(oldest);
  }
  sessions_[id] = WebSession{user, csrf_out, now, now};
  return id;
}

std::optional<WebSession> SessionStore::find(std::string_view session_id) {
  const host::TimePoint now = clock_.now();
  std::lock_guard lock(mutex_);
  auto it = sessions_.find(std::string(session_id));
  if (it == sessions_.end()) return std::nullopt;
  if (expired(it->second, now)) {
    sessions_.erase(it);
    return std::nullopt;
  }
  it->second.last_seen = now;
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
