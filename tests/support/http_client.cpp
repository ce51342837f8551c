#include "support/http_client.hpp"

#include <chrono>
#include <stdexcept>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

namespace mdp::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {
bool iequal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}
}  // namespace

std::string HttpResult::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (iequal(k, name)) return v;
  return {};
}

std::vector<std::string> HttpResult::header_values(std::string_view name) const {
  std::vector<std::string> out;
  for (const auto& [k, v] : headers)
    if (iequal(k, name)) out.push_back(v);
  return out;
}

struct HttpClient::Impl {
  std::string host;
  unsigned short port;
  bool keep_alive;
  asio::io_context ioc;
  std::optional<beast::tcp_stream> stream;
  beast::flat_buffer buffer;

  void connect() {
    stream.emplace(ioc);
    buffer.clear();
    stream->expires_after(std::chrono::seconds(30));
    stream->connect(tcp::endpoint(asio::ip::make_address(host), port));
  }

  HttpResult once(const std::string& method, const std::string& target, const std::string& body,
                  const Headers& headers) {
    if (!stream || !keep_alive) connect();
    http::request<http::string_body> req;
    req.method_string(method);
    req.target(target);
    req.version(11);
    req.set(http::field::host, host + ":" + std::to_string(port));
    for (const auto& [k, v] : headers) req.insert(k, v);
    if (!body.empty() && req.find(http::field::content_type) == req.end())
      req.set(http::field::content_type, "application/json");
    req.body() = body;
    req.keep_alive(keep_alive);
    req.prepare_payload();
    stream->expires_after(std::chrono::seconds(30));
    http::write(*stream, req);
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    http::read(*stream, buffer, parser);
    auto& res = parser.get();
    HttpResult out;
    out.status = static_cast<int>(res.result_int());
    for (const auto& f : res) out.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    out.body = res.body();
    if (!keep_alive || !res.keep_alive()) {
      beast::error_code ec;
      stream->socket().shutdown(tcp::socket::shutdown_both, ec);
      stream.reset();
    }
    return out;
  }
};

HttpClient::HttpClient(std::string host, unsigned short port, bool keep_alive)
    : impl_(std::make_unique<Impl>()) {
  impl_->host = std::move(host);
  impl_->port = port;
  impl_->keep_alive = keep_alive;
}

HttpClient::~HttpClient() = default;

HttpResult HttpClient::request(const std::string& method, const std::string& target,
                               const std::string& body, const Headers& headers) {
  bool reused = impl_->stream.has_value();
  try {
    return impl_->once(method, target, body, headers);
  } catch (const std::exception& e) {
    impl_->stream.reset();
    if (!reused) throw std::runtime_error(std::string("HTTP ") + method + " " + target + ": " + e.what());
  }
  try {
    return impl_->once(method, target, body, headers);  // the kept-alive connection had closed
  } catch (const std::exception& e) {
    impl_->stream.reset();
    throw std::runtime_error(std::string("HTTP ") + method + " " + target + ": " + e.what());
  }
}

std::string HttpClient::raw(const std::string& bytes) {
  asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  stream.expires_after(std::chrono::seconds(10));
  stream.connect(tcp::endpoint(asio::ip::make_address(impl_->host), impl_->port));
  asio::write(stream, asio::buffer(bytes));
  std::string out;
  char buf[4096];
  for (;;) {
    beast::error_code ec;
    stream.expires_after(std::chrono::seconds(10));
    std::size_t n = stream.read_some(asio::buffer(buf), ec);
    out.append(buf, n);
    if (ec) break;
  }
  return out;
}

Headers LoginSession::headers(bool with_csrf, Headers extra) const {
  Headers h{{"Cookie", cookie}};
  if (with_csrf) h.emplace_back("X-CSRF-Token", csrf_token);
  for (auto& e : extra) h.push_back(std::move(e));
  return h;
}

std::optional<LoginSession> login(HttpClient& client, const std::string& email,
                                  const std::string& password) {
  boost::json::object body{{"email", email}, {"password", password}};
  HttpResult r = client.post("/login", boost::json::serialize(body));
  if (r.status != 200) return std::nullopt;
  std::string set_cookie = r.header("Set-Cookie");
  auto semi = set_cookie.find(';');
  LoginSession s;
  s.cookie = set_cookie.substr(0, semi);
  boost::system::error_code ec;
  auto v = boost::json::parse(r.body, ec);
  if (ec || !v.is_object() || !v.as_object().contains("csrf_token")) return std::nullopt;
  s.csrf_token = std::string(v.as_object().at("csrf_token").as_string());
  if (s.cookie.empty()) return std::nullopt;
  return s;
}

}  // namespace mdp::test
