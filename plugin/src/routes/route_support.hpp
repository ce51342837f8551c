// What every admin route handler shares: the 4xx a handler throws, the guard that turns
// exceptions into JSON errors (and database trouble into 503 database_unavailable), and the
// parsing of a route's numeric id.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "mdp/host/http.hpp"

namespace mdp::api_access {

struct PluginContext;

// A 4xx a handler decides on; thrown inside a handler, turned into a response by guarded().
struct HttpError {
  int status;
  const char* code;
  std::string message;
};

using Handler = host::Response (*)(PluginContext&, const host::RouteRequest&);

// 503 database_unavailable with Retry-After.
host::Response database_unavailable();

// Runs `fn` and answers its HttpError as JSON, DatabaseUnavailable and soci_error as 503 (logged),
// anything else as 500 internal_error (logged). Never throws.
host::RouteHandler guarded(std::shared_ptr<PluginContext> ctx, Handler fn);

// The route's parameter `name` as a positive whole number; nullopt when it is not one.
std::optional<std::int64_t> positive_id_param(const host::RouteRequest& req, const char* name);

// The key id of a keys/{id}/... route (404 key_not_found otherwise).
std::int64_t key_id_param(const host::RouteRequest& req);

}  // namespace mdp::api_access
