#include "server/http_server.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <csignal>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <unordered_map>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace mdp::devhost {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {
constexpr auto kIdleTimeout = std::chrono::seconds(60);
}

class Connection;

struct HttpServer::Impl {
  Application& app;
  int threads;
  asio::io_context ioc;
  tcp::acceptor acceptor;
  asio::signal_set signals;
  std::atomic<bool> stopping{false};
  std::mutex mutex;
  std::unordered_map<Connection*, std::weak_ptr<Connection>> connections;

  Impl(Application& a, int n) : app(a), threads(n), ioc(n), acceptor(ioc), signals(ioc, SIGINT, SIGTERM) {}
  void accept();
  void begin_stop();
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, HttpServer::Impl& server)
      : stream_(std::move(socket)), server_(server) {
    beast::error_code ec;
    const auto remote = stream_.socket().remote_endpoint(ec);
    if (!ec) peer_address_ = remote.address().to_string();
  }

  void start() {
    {
      std::lock_guard lock(server_.mutex);
      server_.connections[this] = weak_from_this();
    }
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->read(); });
  }

  ~Connection() {
    std::lock_guard lock(server_.mutex);
    server_.connections.erase(this);
  }

  // Any thread: asks the connection, on its own strand, to close if idle.
  void request_close() {
    asio::post(stream_.get_executor(), [self = shared_from_this()] { self->close_if_idle(); });
  }

 private:
  // Runs on the connection's strand: an idle keep-alive connection is closed now; a busy one
  // closes itself after its response (stopping_ is checked there).
  void close_if_idle() {
    if (idle_) {
      beast::error_code ec;
      stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
      stream_.close();
    }
  }

  void read() {
    if (server_.stopping) return close();
    parser_.emplace();
    parser_->header_limit(HttpServer::kMaxHeaderBytes);
    parser_->body_limit(Application::kMaxBodyBytes);
    idle_ = buffer_.size() == 0;
    stream_.expires_after(kIdleTimeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = shared_from_this()](beast::error_code ec, std::size_t) {
                              self->on_header(ec);
                            });
  }

  void on_header(beast::error_code ec) {
    idle_ = false;
    if (ec) return on_error(ec);
    // Headers are in: read the body (bounded by body_limit) before handling.
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec2, std::size_t) {
                       self->on_read(ec2);
                     });
  }

  void on_error(beast::error_code ec) {
    if (ec == http::error::header_limit)
      return respond_and_close(json_error(431, "headers_too_large",
                                          "The request headers are too large."));
    if (ec == http::error::body_limit)
      return respond_and_close(json_error(413, "body_too_large", "The request body is too large."));
    if (ec == http::error::end_of_stream || ec == asio::error::eof ||
        ec == asio::error::connection_reset || ec == asio::error::operation_aborted ||
        ec == beast::error::timeout || ec == asio::error::bad_descriptor)
      return close();
    // Any other parse error: the request is malformed.
    respond_and_close(json_error(400, "bad_request", "The request is not valid HTTP/1.1."));
  }

  void on_read(beast::error_code ec) {
    if (ec) return on_error(ec);
    const auto& req = parser_->get();
    HttpRequest view;
    view.method = req.method_string();
    view.target = req.target();
    view.headers.reserve(16);
    for (const auto& field : req) view.headers.emplace_back(field.name_string(), field.value());
    view.body = req.body();
    view.peer_address = peer_address_;
    bool keep_alive = req.keep_alive();
    unsigned version = req.version();
    HttpResponse out = server_.app.handle(view);
    write(std::move(out), keep_alive && !server_.stopping, version);
  }

  // For refusals before the request was read whole (413, 431, 400): answer, then drain what
  // the client still sends for a while, so closing does not reset the connection before the
  // client has read the answer.
  void respond_and_close(HttpResponse out) { write(std::move(out), false, 11, /*linger=*/true); }

  void drain(std::size_t left) {
    if (left == 0) return close();
    auto scratch = std::make_shared<std::array<char, 16384>>();
    stream_.expires_after(std::chrono::seconds(5));
    stream_.async_read_some(asio::buffer(*scratch),
                            [self = shared_from_this(), scratch, left](beast::error_code ec, std::size_t n) {
                              if (ec) return self->close();
                              self->drain(n >= left ? 0 : left - n);
                            });
  }

  void write(HttpResponse out, bool keep_alive, unsigned version, bool linger = false) {
    auto res = std::make_shared<http::response<http::string_body>>();
    res->version(version);
    res->result(static_cast<unsigned>(out.status));
    res->set(http::field::content_type, out.content_type);
    // no-store unless the application chose a policy (page assets are cacheable by version).
    const bool own_cache_policy = std::any_of(out.headers.begin(), out.headers.end(), [](const auto& h) {
      return iequals(h.first, "Cache-Control");
    });
    if (!own_cache_policy) res->set(http::field::cache_control, "no-store");
    res->set("X-Content-Type-Options", "nosniff");
    if (out.content_type.rfind("text/html", 0) == 0) {
      res->set("X-Frame-Options", "DENY");
      res->set("Referrer-Policy", "same-origin");
    }
    for (auto& [name, value] : out.headers) res->insert(name, value);
    res->body() = std::move(out.body);
    res->keep_alive(keep_alive);
    res->prepare_payload();
    stream_.expires_after(kIdleTimeout);
    http::async_write(stream_, *res,
                      [self = shared_from_this(), res, keep_alive, linger](beast::error_code ec, std::size_t) {
                        if (!ec && linger) {
                          beast::error_code ignored;
                          self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
                          return self->drain(8 * Application::kMaxBodyBytes);
                        }
                        if (ec || !keep_alive) return self->close();
                        self->read();
                      });
  }

  void close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.close();
  }

  beast::tcp_stream stream_;
  std::string peer_address_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  HttpServer::Impl& server_;
  bool idle_ = false;  // waiting for the first byte of a request (only touched on the strand)
};

void HttpServer::Impl::accept() {
  acceptor.async_accept(asio::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
    if (ec) {
      if (ec == asio::error::operation_aborted || stopping) return;
      return accept();  // e.g. EMFILE: keep serving the connections we have
    }
    if (stopping) return;
    std::make_shared<Connection>(std::move(socket), *this)->start();
    accept();
  });
}

void HttpServer::Impl::begin_stop() {
  if (stopping.exchange(true)) return;
  beast::error_code ec;
  acceptor.close(ec);
  signals.cancel(ec);
  std::vector<std::shared_ptr<Connection>> live;
  {
    std::lock_guard lock(mutex);
    for (auto& [raw, weak] : connections)
      if (auto c = weak.lock()) live.push_back(std::move(c));
  }
  for (auto& c : live) c->request_close();
}

HttpServer::HttpServer(Application& app, const std::string& address, unsigned short port, int threads)
    : impl_(std::make_unique<Impl>(app, threads < 1 ? 1 : threads)) {
  beast::error_code ec;
  auto addr = asio::ip::make_address(address, ec);
  if (ec) throw std::runtime_error("--listen: \"" + address + "\" is not an IP address");
  tcp::endpoint endpoint(addr, port);
  auto& acc = impl_->acceptor;
  acc.open(endpoint.protocol(), ec);
  if (!ec) acc.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acc.bind(endpoint, ec);
  if (!ec) acc.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    throw std::runtime_error("cannot listen on " + address + ":" + std::to_string(port) + ": " +
                             ec.message());
}

HttpServer::~HttpServer() = default;

unsigned short HttpServer::port() const noexcept {
  beast::error_code ec;
  return impl_->acceptor.local_endpoint(ec).port();
}

void HttpServer::run() {
  impl_->signals.async_wait([this](beast::error_code ec, int) {
    if (!ec) stop();
  });
  impl_->accept();
  std::vector<std::thread> pool;
  for (int i = 1; i < impl_->threads; ++i) pool.emplace_back([this] { impl_->ioc.run(); });
  impl_->ioc.run();
  for (auto& t : pool) t.join();
}

void HttpServer::stop() noexcept {
  asio::post(impl_->ioc, [impl = impl_.get()] {
    impl->begin_stop();
  });
}

}  // namespace mdp::devhost
