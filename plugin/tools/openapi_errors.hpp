// docs/openapi.json takes its error codes from the catalogue (errors/error_codes.def), never from
// a list kept by hand: this fills components.schemas.ErrorCode (every code, with its status and
// message) and one PluginError<status> schema per status (the codes answered with it), and
// prints the document in one canonical layout. The target `openapi-doc` rewrites the file with
// it; a test fails while the checked-in file differs from what this makes of it.
#pragma once

#include <string>
#include <string_view>

namespace mdp::api_access {

// `document`: the OpenAPI document's text. Throws std::runtime_error if it is not a JSON object
// with components.schemas.
std::string openapi_with_catalogue(std::string_view document);

}  // namespace mdp::api_access
