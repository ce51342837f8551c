// The plugin's OpenAPI 3.1 document (docs/openapi.json), embedded at build time
// (cmake/EmbedText.cmake) and served without login at GET /plugins/api-access/openapi.json.
#pragma once

#include <string_view>

namespace mdp::api_access {

// The document's text, exactly as checked in.
std::string_view openapi_document() noexcept;

}  // namespace mdp::api_access
