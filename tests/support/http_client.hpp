// A small synchronous HTTP/1.1 client for tests (Beast inside http_client.cpp only).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mdp::test {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct HttpResult {
  int status = 0;
  Headers headers;
  std::string body;
  // First value of a header (case-insensitive), or "".
  std::string header(std::string_view name) const;
  std::vector<std::string> header_values(std::string_view name) const;
};

class HttpClient {
 public:
  // keep_alive: reuse one connection across requests (reconnecting once if the server closed it).
  HttpClient(std::string host, unsigned short port, bool keep_alive = false);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Throws std::runtime_error on a network failure (never on an HTTP error status).
  HttpResult request(const std::string& method, const std::string& target,
                     const std::string& body = "", const Headers& headers = {});
  HttpResult get(const std::string& target, const Headers& headers = {}) {
    return request("GET", target, "", headers);
  }
  HttpResult post(const std::string& target, const std::string& body, const Headers& headers = {}) {
    return request("POST", target, body, headers);
  }

  // Sends raw bytes on a new connection and returns everything read until the server closes
  // (or 10 s of silence). For malformed and oversized requests.
  std::string raw(const std::string& bytes);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A logged-in browser session: the cookie to send back and the CSRF token.
struct LoginSession {
  std::string cookie;  // "mdp_session=..."
  std::string csrf_token;
  // Cookie (and X-CSRF-Token when with_csrf) headers, plus `extra`.
  Headers headers(bool with_csrf = true, Headers extra = {}) const;
};

// POST /login; nullopt unless 200 with a session cookie and a csrf_token.
std::optional<LoginSession> login(HttpClient& client, const std::string& email,
                                  const std::string& password = "devpass");

}  // namespace mdp::test
