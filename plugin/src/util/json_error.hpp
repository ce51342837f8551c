// The plugin's one error shape, `{"error":{"code","message"}}`, used by the admin routes and by
// the request hook. Codes are stable and machine-readable; messages are a sentence a person can
// act on and never contain a key.
#pragma once

#include <string>
#include <string_view>

#include <boost/json/value.hpp>

#include "mdp/host/http.hpp"

namespace mdp::api_access {

std::string error_body(std::string_view code, std::string_view message);
host::Response error_response(int status, std::string_view code, std::string_view message);
host::Response json_response(int status, const boost::json::value& body);

}  // namespace mdp::api_access
