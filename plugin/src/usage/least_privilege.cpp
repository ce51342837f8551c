#include "usage/least_privilege.hpp"

#include <algorithm>

namespace mdp::api_access {

namespace {

bool is_write(const std::string& scope, const std::vector<host::ApiScope>& host_scopes) {
  for (const auto& s : host_scopes)
    if (s.id == scope) return s.write;
  constexpr std::string_view kSuffix = ":write";
  return scope.size() > kSuffix.size() && scope.compare(scope.size() - kSuffix.size(), kSuffix.size(), kSuffix) == 0;
}

}  // namespace

std::optional<LeastPrivilege> least_privilege(const KeyRecord& key, const std::vector<ScopeUse>& uses,
                                              std::optional<Micros> counting_since,
                                              const std::vector<host::ApiScope>& host_scopes, Micros now) {
  const Micros window = kLeastPrivilegeDays * kMicrosPerDay;
  if (key.status_at(now) != KeyStatus::active) return std::nullopt;
  if (now - key.created_at < window) return std::nullopt;
  if (!counting_since || now - *counting_since < window) return std::nullopt;
  const Micros since = now - window;
  auto used_lately = [&](const std::string& scope) {
    return std::any_of(uses.begin(), uses.end(), [&](const ScopeUse& u) {
      return u.key_id == key.id && u.scope == scope && u.requests > 0 && u.last_used_at >= since;
    });
  };
  LeastPrivilege lp;
  for (const auto& s : key.scopes) {
    const bool used = used_lately(s);
    if (used) lp.used.push_back(s);
    else if (is_write(s, host_scopes)) lp.unused_write.push_back(s);
  }
  if (lp.unused_write.empty()) return std::nullopt;
  return lp;
}

}  // namespace mdp::api_access
