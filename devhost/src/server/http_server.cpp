#include "server/http_server.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <csignal>
#include <limits>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <unordered_map>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <botan/mem_ops.h>
#include <sys/resource.h>

namespace mdp::devhost {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {
// A kept-alive connection may wait this long for its next request.
constexpr auto kIdleTimeout = std::chrono::seconds(60);
// Once a request's first byte arrived, its headers must be complete within this, and its body
// within kBodyDeadline: a client sending a byte now and then cannot hold a connection.
constexpr auto kHeaderDeadline = std::chrono::seconds(10);
constexpr auto kBodyDeadline = std::chrono::seconds(30);
// File descriptors kept free for everything but client sockets: database files, plugin
// libraries, logs, the epoll and signal descriptors.
constexpr std::size_t kReservedFiles = 64;
// Accept failures (EMFILE and the like) wait this long before the next try, doubling to the max.
constexpr auto kFirstBackoff = std::chrono::milliseconds(5);
constexpr auto kMaxBackoff = std::chrono::milliseconds(500);

std::int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Below the soft limit on open files, so that accept() never fails for want of a descriptor.
std::size_t connection_cap() {
  rlimit rl{};
  std::size_t files = 1024;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) files = rl.rlim_cur;
  else if (rl.rlim_cur == RLIM_INFINITY) files = std::numeric_limits<int>::max();
  return files > 2 * kReservedFiles ? files - kReservedFiles : files / 2;
}
}  // namespace

class Connection;

struct HttpServer::Impl {
  Application& app;
  int threads;
  std::size_t max_connections;
  asio::io_context ioc;
  tcp::acceptor acceptor;
  asio::signal_set signals;
  asio::steady_timer accept_backoff;
  std::chrono::milliseconds backoff = kFirstBackoff;
  std::atomic<bool> stopping{false};
  std::mutex mutex;
  std::unordered_map<Connection*, std::weak_ptr<Connection>> connections;
  std::size_t shedding = 0;  // connections told to close that still exist (under mutex)

  Impl(Application& a, int n)
      : app(a), threads(n), max_connections(connection_cap()), ioc(n), acceptor(ioc),
        signals(ioc, SIGINT, SIGTERM), accept_backoff(ioc) {}
  void accept();
  bool admit();
  bool shed_oldest_waiting_locked(std::vector<std::shared_ptr<Connection>>& out);
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
    if (shed_) --server_.shedding;
  }

  // Any thread: asks the connection, on its own strand, to close if idle.
  void request_close() {
    asio::post(stream_.get_executor(), [self = shared_from_this()] { self->close_if_idle(); });
  }
  // Any thread: the connection is being shed for a newer one; it closes if still waiting for
  // its client (a request being answered finishes first).
  void request_shed() {
    asio::post(stream_.get_executor(), [self = shared_from_this()] {
      if (self->waiting_since_ns_.load(std::memory_order_relaxed) != 0) self->close();
    });
  }

  // When it started waiting for its client (steady ns); 0 while a request is being answered.
  std::int64_t waiting_since() const noexcept { return waiting_since_ns_.load(std::memory_order_relaxed); }
  bool shed_ = false;  // chosen to be shed (under the server's mutex)

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
    waiting_since_ns_.store(steady_ns(), std::memory_order_relaxed);
    if (buffer_.size() != 0) return read_header();  // a pipelined request is already here
    // Wait for the first byte with the idle timeout; the header deadline starts after it.
    idle_ = true;
    stream_.expires_after(kIdleTimeout);
    stream_.async_read_some(buffer_.prepare(4096),
                            [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                              self->idle_ = false;
                              if (ec) return self->on_error(ec);
                              self->buffer_.commit(n);
                              self->read_header();
                            });
  }

  void read_header() {
    stream_.expires_after(kHeaderDeadline);
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = shared_from_this()](beast::error_code ec, std::size_t) {
                              self->on_header(ec);
                            });
  }

  void on_header(beast::error_code ec) {
    if (ec) return on_error(ec);
    // Headers are in: read the body (bounded by body_limit) before handling.
    stream_.expires_after(kBodyDeadline);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec2, std::size_t) {
                       self->on_read(ec2);
                     });
  }

  void on_error(beast::error_code ec) {
    waiting_since_ns_.store(0, std::memory_order_relaxed);
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
    waiting_since_ns_.store(0, std::memory_order_relaxed);
    const auto& req = parser_->get();
    HttpRequest view;
    view.method = req.method_string();
    view.target = req.target();
    view.headers.reserve(16);
    for (const auto& field : req) view.headers.emplace_back(field.name_string(), field.value());
    view.body = req.body();
    view.peer_address = peer_address_;
    keep_alive_ = req.keep_alive();
    version_ = req.version();
    // The answer may come later from another thread (a login's password check): until it does,
    // the io_context must not run out of work, and the parser (which `view` points into) stays.
    pending_.emplace(asio::make_work_guard(server_.ioc));
    server_.app.handle(view, [self = shared_from_this()](HttpResponse out) {
      asio::dispatch(self->stream_.get_executor(), [self, out = std::move(out)]() mutable {
        self->pending_.reset();
        self->write(std::move(out), self->keep_alive_ && !self->server_.stopping, self->version_);
      });
    });
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
    for (const auto& [name, value] : response_headers(out, server_.app.header_policy()))
      res->insert(name, value);
    res->body() = std::move(out.body);
    res->keep_alive(keep_alive);
    res->prepare_payload();
    stream_.expires_after(kIdleTimeout);
    http::async_write(stream_, *res,
                      [self = shared_from_this(), res, keep_alive, linger](beast::error_code ec, std::size_t) {
                        // The body may have held a one-time secret (a new API key): overwrite it
                        // now that it is written, rather than leave it to the allocator.
                        Botan::secure_scrub_memory(res->body().data(), res->body().size());
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
    waiting_since_ns_.store(0, std::memory_order_relaxed);
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.close();
  }

  beast::tcp_stream stream_;
  std::string peer_address_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> pending_;
  HttpServer::Impl& server_;
  std::atomic<std::int64_t> waiting_since_ns_{0};
  bool keep_alive_ = false;
  unsigned version_ = 11;
  bool idle_ = false;  // waiting for the first byte of a request (only touched on the strand)
};

void HttpServer::Impl::accept() {
  acceptor.async_accept(asio::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
    if (ec) {
      if (ec == asio::error::operation_aborted || stopping) return;
      // Out of descriptors or memory (EMFILE, ENFILE, ENOBUFS, ...): make room by shedding the
      // oldest waiting connection, and wait before trying again instead of spinning on the error.
      std::vector<std::shared_ptr<Connection>> shed;
      {
        std::lock_guard lock(mutex);
        shed_oldest_waiting_locked(shed);
      }
      for (auto& c : shed) c->request_shed();
      accept_backoff.expires_after(backoff);
      backoff = std::min(backoff * 2, kMaxBackoff);
      accept_backoff.async_wait([this](beast::error_code wait_ec) {
        if (!wait_ec && !stopping) accept();
      });
      return;
    }
    backoff = kFirstBackoff;
    if (stopping) return;
    if (admit()) {
      std::make_shared<Connection>(std::move(socket), *this)->start();
    } else {
      beast::error_code ignored;
      socket.close(ignored);  // every connection is busy answering: nothing to shed
    }
    accept();
  });
}

// At the cap, a new connection takes the place of the one that has waited longest for its
// client (idle keep-alive or a request still arriving). Only if every connection is busy
// answering a request is the new one refused.
bool HttpServer::Impl::admit() {
  std::vector<std::shared_ptr<Connection>> shed;
  bool ok = true;
  {
    std::lock_guard lock(mutex);
    if (connections.size() - shedding >= max_connections) ok = shed_oldest_waiting_locked(shed);
  }
  for (auto& c : shed) c->request_shed();
  return ok;
}

bool HttpServer::Impl::shed_oldest_waiting_locked(std::vector<std::shared_ptr<Connection>>& out) {
  Connection* oldest = nullptr;
  std::int64_t since = 0;
  for (auto& [raw, weak] : connections) {
    if (raw->shed_ || weak.expired()) continue;  // (an expired one is in its destructor)
    const std::int64_t w = raw->waiting_since();
    if (w != 0 && (oldest == nullptr || w < since)) {
      oldest = raw;
      since = w;
    }
  }
  if (oldest == nullptr) return false;
  auto c = connections[oldest].lock();
  if (!c) return false;
  oldest->shed_ = true;
  ++shedding;
  out.push_back(std::move(c));
  return true;
}

void HttpServer::Impl::begin_stop() {
  if (stopping.exchange(true)) return;
  beast::error_code ec;
  acceptor.close(ec);
  signals.cancel(ec);
  accept_backoff.cancel();
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
