// Least privilege: a key holding a write scope that it has not used is marked "write access
// unused", with the narrower scope set it actually used (PATCH keys/{id} applies it). A pure
// rule over the key, its per-scope usage (usage/scope_usage.hpp) and the host clock, shared by
// the page and the admin routes.
//
// The mark needs evidence: the key is at least kLeastPrivilegeDays old, and per-scope counting
// (which began when this version first ran, api_access_scope_tracking) has covered that many
// days, so a scope that was used before counting began is never called unused.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "keys/key_record.hpp"
#include "mdp/host/services.hpp"
#include "usage/scope_usage.hpp"

namespace mdp::api_access {

inline constexpr int kLeastPrivilegeDays = 30;

struct LeastPrivilege {
  std::vector<std::string> unused_write;  // held write scopes without a request in the window
  // The held scopes used in the window, in the key's order: what a one-click reduction keeps.
  // Empty when the key used nothing (then revoking it is the advice, not a reduction).
  std::vector<std::string> used;
};

// nullopt: no mark (not active, too young, counting too recent, or every write scope used).
// `uses`: this key's rows; `host_scopes`: which scopes are write scopes (a scope the host no
// longer lists counts as write when its name ends in ":write").
std::optional<LeastPrivilege> least_privilege(const KeyRecord& key, const std::vector<ScopeUse>& uses,
                                              std::optional<Micros> counting_since,
                                              const std::vector<host::ApiScope>& host_scopes, Micros now);

}  // namespace mdp::api_access
