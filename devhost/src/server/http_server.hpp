// The devhost's HTTP/1.1 server: Boost.Beast over Asio, a few threads, keep-alive, bounded
// headers (431) and bodies (413), graceful stop on SIGINT/SIGTERM. The only file that includes
// Beast (each such TU costs ~23 s to compile); request logic lives in app/application.cpp.
#pragma once

#include <memory>
#include <string>

#include "app/application.hpp"

namespace mdp::devhost {

class HttpServer {
 public:
  static constexpr std::size_t kMaxHeaderBytes = 16 * 1024;

  // Binds now (port 0: any free port); throws std::runtime_error with one line on failure.
  HttpServer(Application& app, const std::string& address, unsigned short port, int threads);
  ~HttpServer();

  unsigned short port() const noexcept;

  // Serves until SIGINT/SIGTERM or stop(): then stops accepting, lets in-flight requests
  // finish, closes idle keep-alive connections and returns once every connection is gone.
  void run();
  void stop() noexcept;  // any thread

  struct Impl;  // public only so the connection class in the .cpp can name it

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace mdp::devhost
