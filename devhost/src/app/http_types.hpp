// The devhost's server-neutral request and response, so the application logic (application.cpp)
// never includes Boost.Beast: Beast lives only in server/http_server.cpp (one slow TU).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mdp/host/http.hpp"

namespace mdp::devhost {

// A view over the request the server parsed; every string_view points into the server's
// buffers and is valid during Application::handle only.
struct HttpRequest {
  std::string_view method;
  std::string_view target;  // origin-form: path?query, as received
  std::vector<std::pair<std::string_view, std::string_view>> headers;  // arrival order
  std::string_view body;
  std::string_view peer_address;  // the connection's remote IP address as text

  // First value of a header (case-insensitive name), or empty.
  std::string_view header(std::string_view name) const noexcept;
  // Every value of `name` in order: up to `max` into out, returns the total count.
  std::size_t header_values(std::string_view name, std::string_view* out, std::size_t max) const noexcept;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<host::NameValue> headers;  // extra headers (Set-Cookie, Location, ...)
};

bool iequals(std::string_view a, std::string_view b) noexcept;

}  // namespace mdp::devhost
