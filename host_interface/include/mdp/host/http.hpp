// HTTP routes a plugin registers. The host mounts them under /plugins/<plugin-id>/.
//
// What the host does before calling a handler: it authenticates the session (no session: 401
// `not_authenticated`), checks the route's permission for the user's role (403 `forbidden`),
// requires the session's CSRF token in `X-CSRF-Token` on every POST, PUT, PATCH and DELETE (403
// `csrf_token_invalid`), and bounds the body size (413 `body_too_large`). Those errors, 404
// `not_found` for a path no route's pattern matches, and 405 `method_not_allowed` for a path a
// pattern matches with another method, are JSON `{"error":{"code","message"}}` written by the
// host. Handlers are called once per matching request, as often as clients send them. A route
// whose permission is kPublicPermission (since 2.1) skips the session, role and CSRF checks.
// Threads: handlers run on the host's server threads, concurrently. A handler must not throw; the
// host turns an escaped exception into 500 `internal_error`, but a plugin built on this contract
// catches its own.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mdp/host/services.hpp"

namespace mdp::host {

using NameValue = std::pair<std::string, std::string>;

// RouteSpec::permission of a route anyone may call (since 2.1): the host serves it without a
// session, a CSRF token or a role check, to any client, so the plugin authenticates and bounds
// it itself (e.g. by client address, see kClientAddressParam). RouteRequest::user is then empty
// (id 0, clinic 0) and csrf_token empty. A host before 2.1 cannot serve such a route open: it
// refuses a 2.1 plugin at the ABI check, and "public" is no permission any manifest declares.
inline constexpr const char* kPublicPermission = "public";

// The name under which the host adds the client's IP address to RouteRequest::params, on every
// route, public or not (since 2.1): the same text as ApiRequest::client_address, empty when the
// host cannot tell. A pattern cannot name a parameter so ('-' is not allowed in `{name}`).
inline constexpr const char* kClientAddressParam = "client-address";

// Everything a handler learns about its request. Owned by the host; valid during the call.
struct RouteRequest {
  std::string method;              // "GET", "POST", ...
  std::string path;                // below the mount point, e.g. "keys/42/revoke"
  std::vector<NameValue> params;   // from the route pattern, e.g. {"id", "42"}; since 2.1
                                   // also {kClientAddressParam, "203.0.113.7"}
  std::vector<NameValue> query;    // decoded query string, in order
  std::string body;                // raw request body (JSON for this plugin's routes)
  User user;                       // the authenticated acting user
  std::string csrf_token;          // the session's token, for view models that post forms

  const std::string* param(std::string_view name) const noexcept {
    for (const auto& [k, v] : params)
      if (k == name) return &v;
    return nullptr;
  }
  const std::string* query_value(std::string_view name) const noexcept {
    for (const auto& [k, v] : query)
      if (k == name) return &v;
    return nullptr;
  }
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  // Extra headers about this response (Location, Cache-Control, Retry-After). The host sets
  // Content-Type from content_type and Content-Length itself. A status outside 100-599 is
  // answered 500 by the host.
  std::vector<NameValue> headers;
};

using RouteHandler = std::function<Response(const RouteRequest&)>;

struct RouteSpec {
  std::string method;      // "GET" or "POST" (or PUT, PATCH, DELETE)
  // Segments separated by '/', no leading slash; `{name}` matches one non-empty segment and is
  // passed in RouteRequest::params. Example: "keys/{id}/revoke".
  std::string pattern;
  std::string permission;  // the permission the user's role must have, e.g. "api_keys.manage";
                           // kPublicPermission: no session at all (since 2.1)
  std::string summary;     // one line, shown in the host's route listing
  RouteHandler handler;
};

}  // namespace mdp::host
