// The header set of every devhost response, decided in one place (the server only writes it):
// the host's security headers, each exactly once, plus what the application or a plugin added.
//
//   - Host-owned, never overridden: X-Content-Type-Options, Content-Security-Policy,
//     X-Frame-Options, Referrer-Policy, Permissions-Policy, Strict-Transport-Security. A plugin
//     that sends one of these has its copy dropped: a plugin cannot weaken the page's policy.
//   - Defaults the response may replace: Content-Type (HttpResponse::content_type) and
//     Cache-Control (no-store unless the response names its own policy, e.g. versioned assets).
//   - Everything else as given; a name given twice keeps its first value, except Set-Cookie,
//     which may repeat (one cookie per header).
//
// HTML pages get a Content-Security-Policy that allows scripts and styles from this origin only
// (pages load /assets/*.js and *.css; no inline script or style runs), and forbids framing,
// plugins (<object>), <base> and form posts to other origins.
#pragma once

#include <string_view>
#include <utility>
#include <vector>

#include "app/http_types.hpp"

namespace mdp::devhost {

struct HeaderPolicy {
  bool https = false;  // --https: the public URL is https (HSTS is sent)
};

inline constexpr std::string_view kPageCsp =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
// JSON and other non-page answers load nothing and must not be framed either.
inline constexpr std::string_view kDataCsp = "default-src 'none'; frame-ancestors 'none'";
inline constexpr std::string_view kPermissionsPolicy =
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()";

using HeaderList = std::vector<std::pair<std::string_view, std::string_view>>;

// The headers to send with `response` (views into it and into constants), in order, without
// Content-Length / Connection (the server adds those).
HeaderList response_headers(const HttpResponse& response, const HeaderPolicy& policy);

}  // namespace mdp::devhost
