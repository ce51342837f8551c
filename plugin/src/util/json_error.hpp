// The plugin's one error shape, `{"error":{"code","message","doc"}}`, used by the admin routes and
// by the request hook. Codes are stable and machine-readable, each listed with its status in
// errors/error_codes.def (add a new code there first); `doc` links the code's entry there.
// Messages are a sentence a person can act on and never contain a key.
#pragma once

#include <string>
#include <string_view>

#include <boost/json/value.hpp>

#include "mdp/host/http.hpp"

namespace mdp::api_access {

std::string error_body(std::string_view code, std::string_view message);
// With the catalogue's message for `code`.
std::string error_body(std::string_view code);
host::Response error_response(int status, std::string_view code, std::string_view message);
host::Response json_response(int status, const boost::json::value& body);

}  // namespace mdp::api_access
