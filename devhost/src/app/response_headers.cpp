#include "app/response_headers.hpp"

#include <string>

namespace mdp::devhost {

namespace {

constexpr std::string_view kHostOwned[] = {
    "X-Content-Type-Options", "Content-Security-Policy", "X-Frame-Options",
    "Referrer-Policy",        "Permissions-Policy",      "Strict-Transport-Security",
    // Framing headers the server computes itself.
    "Content-Length", "Transfer-Encoding", "Connection",
};

bool host_owned(std::string_view name) noexcept {
  for (std::string_view h : kHostOwned)
    if (iequals(h, name)) return true;
  return false;
}

bool already(const HeaderList& out, std::string_view name) noexcept {
  for (const auto& [n, v] : out)
    if (iequals(n, name)) return true;
  return false;
}

}  // namespace

HeaderList response_headers(const HttpResponse& response, const HeaderPolicy& policy) {
  HeaderList out;
  out.reserve(10 + response.headers.size());
  const bool page = response.content_type.rfind("text/html", 0) == 0;
  out.emplace_back("Content-Type", response.content_type);
  out.emplace_back("X-Content-Type-Options", "nosniff");
  out.emplace_back("Content-Security-Policy", page ? kPageCsp : kDataCsp);
  if (page) {
    out.emplace_back("X-Frame-Options", "DENY");
    out.emplace_back("Referrer-Policy", "same-origin");
    out.emplace_back("Permissions-Policy", kPermissionsPolicy);
  }
  if (policy.https) out.emplace_back("Strict-Transport-Security", "max-age=31536000");
  for (const auto& [name, value] : response.headers) {
    if (name.empty() || host_owned(name) || iequals(name, "Content-Type")) continue;
    // A line break in a value would let it start a header of its own.
    if (value.find_first_of("\r\n") != std::string::npos) continue;
    if (!iequals(name, "Set-Cookie") && already(out, name)) continue;
    out.emplace_back(name, value);
  }
  if (!already(out, "Cache-Control")) out.emplace_back("Cache-Control", "no-store");
  return out;
}

}  // namespace mdp::devhost
