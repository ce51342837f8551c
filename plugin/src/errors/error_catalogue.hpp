// The catalogue of the plugin's error codes (read from error_codes.def): code, HTTP status,
// default message and what to do. Error bodies link each code to its entry, a stable reference
// a client can show or follow: "doc": "/plugins/api-access/errors#<code>", a path on the host
// where the plugin serves the catalogue as a page (docs/errors.md holds the same text).
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace mdp::api_access {

struct ErrorEntry {
  std::string_view code;
  int status;
  std::string_view message;  // sent when the call site has nothing more specific to say
  std::string_view action;   // what to do, for the docs
};

// Path of the page on the host (below the plugin's mount point: "errors").
inline constexpr std::string_view kErrorDocPath = "/plugins/api-access/errors";

// Every entry, in the order of error_codes.def.
std::span<const ErrorEntry> error_catalogue() noexcept;
// The entry of `code`, or nullptr for a code the catalogue lacks.
const ErrorEntry* find_error(std::string_view code) noexcept;
// "/plugins/api-access/errors#<code>".
std::string error_doc_ref(std::string_view code);

// The catalogue as Markdown (docs/errors.md is this text) and as the served HTML page.
std::string errors_markdown();
std::string errors_html();

}  // namespace mdp::api_access
