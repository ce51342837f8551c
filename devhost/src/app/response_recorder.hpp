// Opt-in, for tests (--record-responses FILE): appends one JSON line per answer of a plugin route
// or of the public API that matched an operation (method and route pattern), so that a test can
// check every answer the HTTP suites received against the plugin's OpenAPI document
// (tests/openapi). Nothing is recorded without the flag.
//
//   {"method":"POST","route":"/plugins/api-access/keys/{id}/rotate","status":201,
//    "content_type":"application/json","headers":{"Cache-Control":"no-store"},"body":"..."}
//
// Secrets: a full API key never reaches the file. Before a line is written, every API key in it
// (the one-time "secret" of a create or rotate answer, or one echoed anywhere) is replaced by
// kRecordedKeyPlaceholder, which has a key's format but a checksum that never matches, so it
// cannot authenticate. Only the headers named in kRecordedHeaders are kept (never Set-Cookie),
// and the request's query string, which may hold a key sent by mistake, is not recorded.
#pragma once

#include <array>
#include <mutex>
#include <string>
#include <string_view>

#include "app/http_types.hpp"

namespace mdp::devhost {

// "mdp_" and 58 'A': base32 of 32 zero bytes and a CRC-32 of 0, which is not the CRC-32 of 32
// zero bytes, so the plugin refuses it as malformed before any lookup.
inline constexpr std::string_view kRecordedKeyPlaceholder =
    "mdp_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

inline constexpr std::array<std::string_view, 6> kRecordedHeaders = {
    "RateLimit-Policy", "RateLimit", "Retry-After", "WWW-Authenticate", "Cache-Control",
    "Content-Disposition"};

// Replaces each run of "mdp_" followed by 58 or more base32 characters (A-Z, 2-7) in `text`
// with kRecordedKeyPlaceholder.
void mask_api_keys(std::string& text);

class ResponseRecorder {
 public:
  // Opens `path` for appending (created if missing). Throws std::runtime_error if it cannot.
  explicit ResponseRecorder(const std::string& path);
  ~ResponseRecorder();
  ResponseRecorder(const ResponseRecorder&) = delete;
  ResponseRecorder& operator=(const ResponseRecorder&) = delete;

  // One line for this answer; `route` is the matched operation's path template
  // ("/plugins/<plugin-id>/<pattern>" or the public API's path). Any thread. Never throws: a
  // line that cannot be written is lost (the check then misses it; it never passes a wrong one).
  void record(std::string_view method, std::string_view route, const HttpResponse& response) noexcept;

 private:
  std::mutex mutex_;
  int fd_ = -1;
};

}  // namespace mdp::devhost
