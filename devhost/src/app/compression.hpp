// gzip for the devhost's pages and their assets (HTML, CSS, JavaScript), when the client accepts
// it: a page of a clinic with hundreds of keys shrinks about twentyfold on the wire.
//
// JSON is left alone on purpose: the public API's hot path stays as benchmarked, and the admin
// routes' answers may hold a one-time secret next to text the caller chose (a label), the mix that
// compression side channels (BREACH) need. HTML pages hold the CSRF token next to the search
// text, but the session cookie is SameSite=Strict, so no other site can make a browser load a
// logged-in page with a query of its choosing.
#pragma once

#include "app/http_types.hpp"

namespace mdp::devhost {

// True if the request's Accept-Encoding allows gzip (a "gzip" entry whose q is not 0).
bool accepts_gzip(const HttpRequest& request) noexcept;

// Compresses `response` in place when it is worth it (a page or asset of at least 1 KiB) and the
// request accepts gzip; adds Content-Encoding and Vary. On any failure the response stays as it
// was (uncompressed is always a valid answer).
void maybe_gzip(const HttpRequest& request, HttpResponse& response) noexcept;

}  // namespace mdp::devhost
