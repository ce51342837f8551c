// The devhost's request handling, independent of the HTTP library: sessions and CSRF, billing,
// settings pages, plugin routes, the public API with the plugins' ApiHook, and the test clock.
// The server (server/http_server.cpp) parses with Beast and calls handle() on its threads.
//
// Routes served (README has the full list):
//   GET  /login (HTML)  POST /login  POST /logout
//   GET  /settings  /settings/billing  /settings/<plugin page path>
//   GET  /billing/features   POST|DELETE /billing/addons/<addon>   (billing.manage)
//   ANY  /plugins/<plugin-id>/<route pattern>   (permission "public": without a session)
//   GET  /api/v1/patients  GET|POST /api/v1/appointments  GET /api/v1/ping
//   GET  /demo/ping       (no authentication: a benchmark aid to compare with /api/v1/ping)
//   POST /__test/clock    (only with --test-clock)
#pragma once

#include <functional>
#include <memory>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "app/client_address.hpp"
#include "app/http_types.hpp"
#include "app/login.hpp"
#include "app/response_headers.hpp"
#include "app/response_recorder.hpp"
#include "app/sessions.hpp"
#include "loader/plugin_loader.hpp"
#include "services/clocks.hpp"
#include "services/host_services.hpp"

namespace mdp::devhost {

struct ApplicationOptions {
  bool https = false;  // --https: clients reach the devhost over HTTPS (Secure cookies, HSTS)
  SessionLimits sessions;
  LoginLimits login;
  // --trusted-proxy CIDR...: peers whose X-Forwarded-For names the client (app/client_address.hpp).
  TrustedProxies trusted_proxies;
  // --record-responses FILE: every answer of a plugin route or the public API that matched an
  // operation is appended there (app/response_recorder.hpp). Null: nothing is recorded.
  std::shared_ptr<ResponseRecorder> recorder;
};

class Application {
 public:
  using Done = std::function<void(HttpResponse)>;

  // `test_clock` is non-null only with --test-clock. Plugins are in load order.
  Application(SharedServices& services, ManualClock* test_clock,
              std::vector<std::shared_ptr<LoadedPlugin>> plugins, ApplicationOptions options = {});
  ~Application();

  // What the server calls: answers through `done`, exactly once, either before returning or,
  // for POST /login (a password check on the login pool), later from a pool thread. The
  // request's buffers must stay valid until `done` ran. Never throws.
  void handle(const HttpRequest& request, const Done& done) noexcept;

  // The same for everything but POST /login, answered here and now (POST /login is refused with
  // 500). Never throws; any failure becomes a JSON error response (500 internal_error at worst).
  HttpResponse handle(const HttpRequest& request) noexcept;

  // The server writes these headers with every response (app/response_headers.hpp).
  const HeaderPolicy& header_policy() const noexcept;
  // A clinic's plan changed (in this process or another): on_subscription_changed on every
  // plugin. Any thread; main() stops the change listener before stop_plugins().
  void subscription_changed(host::ClinicId clinic) noexcept;

  // Called by main() when the server's threads have returned and before the server is
  // destroyed: finishes the work the application runs on its own threads (password checks),
  // whose callbacks hold the server's connections. Releasing those after the server's
  // io_context is gone would touch freed memory (seen as a hang or a mutex assertion at exit).
  void stop_background_work() noexcept;

  // Called by main() after the server stopped: on_stop on every plugin, then drops them.
  void stop_plugins() noexcept;

  static constexpr std::size_t kMaxBodyBytes = 1 << 20;  // the server's parser limit (413 above)

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// {"error":{"code":...,"message":...}} with the status.
HttpResponse json_error(int status, std::string_view code, std::string_view message);

}  // namespace mdp::devhost
