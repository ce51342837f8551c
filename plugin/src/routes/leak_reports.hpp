// POST /plugins/api-access/leaked-keys: the public route through which whoever finds a key (a
// secret scanner, a person) revokes it. Registered with the host's "public" permission (no
// session, no CSRF token): holding a key is the right to revoke it. docs/leaked-keys.md is the
// reference a scanner vendor reads.
//
//   body    [{"token": "mdp_...", "url"?: "...", "source"?: "..."}, ...]   1 to 100 entries
//   200     {"results": [{"status": "revoked" | "not_active" | "invalid"}, ...]} in request order
//   400     invalid_json, invalid_report, too_many_tokens
//   429     too_many_reports + Retry-After: per client address, a burst of 20 reports, then one
//           per second (auth/failure_throttle.hpp's leaky bucket, one unit per report)
//   503     database_unavailable + Retry-After: nothing was revoked by the failed token onwards
//
// A live key is revoked at once (revoked_reason 'leak_report', leak_url, leak_source, and a
// 'revoked' event by the actor "leak report", with no user, whose detail names the url and
// source), and the hook's cache and every other host process learn of it like any revocation.
// The answer never says more than the status: not the clinic, label, scopes or creator.
#pragma once

#include <memory>

#include "mdp/host/http.hpp"

namespace mdp::api_access {

struct PluginContext;

host::RouteSpec make_leak_report_route(std::shared_ptr<PluginContext> ctx);

}  // namespace mdp::api_access
