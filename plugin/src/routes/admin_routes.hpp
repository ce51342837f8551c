// The admin routes (keys and usage), mounted by the host at /plugins/api-access/, all needing
// the "api_keys.manage" permission (the host enforces it, the session, and the CSRF token):
//
//   GET  keys                 {"keys":[record...]}, newest first
//   POST keys                 {"label","scopes"?,"expires_at"?} -> 201 {"key":record,"secret"}
//   POST keys/{id}/revoke     -> 200 {"key":record}; idempotent
//   POST keys/{id}/rotate     {"grace_seconds"?} -> 201 {"key":new,"secret","rotated_key":old}
//   GET  events               {"events":[event...]}, newest first
//   GET  keys/{id}/usage?days=N  {"key_id","days":[{"date","requests","client_errors",
//                             "server_errors"}],"requests","client_errors","server_errors",
//                             "error_rate"}
//
// Records and events: keys/key_record.hpp. Errors: {"error":{"code","message"}} with
// invalid_json, invalid_label, missing_scope, unknown_scope, invalid_expiry,
// invalid_grace_seconds, invalid_days (400), api_access_not_enabled (403), key_not_found (404),
// database_unavailable (503), internal_error (500). Every handler catches its own exceptions.
#pragma once

#include <memory>
#include <vector>

#include "mdp/host/http.hpp"

namespace mdp::api_access {

struct PluginContext;

std::vector<host::RouteSpec> make_admin_routes(std::shared_ptr<PluginContext> ctx);

// Unicode code points in valid UTF-8 text (what the 100-character label limit counts).
std::size_t count_code_points(std::string_view utf8) noexcept;

}  // namespace mdp::api_access
