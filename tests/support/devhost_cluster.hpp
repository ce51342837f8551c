// Several mdp-devhost processes on one private PostgreSQL (PgCluster), the way a practice runs
// the product in production, plus the few admin and API calls that tests and benchmarks of
// "a change on one host reaches the others" and "the database goes away" need. No GoogleTest
// here: failures throw std::runtime_error, so bench/ programs can use it too.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "support/devhost_process.hpp"
#include "support/http_client.hpp"
#include "support/pg_cluster.hpp"

namespace mdp::test {

class DevhostCluster {
 public:
  // Starts a PostgreSQL server and `hosts` devhosts on it (hosts 1, 3, ... reach it through a
  // postgresql:// URL, the others through a key=value conninfo; each with --test-clock and
  // `extra_args`, e.g. {"--plugin-setting", "api-access.offline_grace_seconds=5"}). The first
  // host migrates and seeds the empty database before the others start.
  explicit DevhostCluster(std::size_t hosts = 3, std::vector<std::string> extra_args = {});
  ~DevhostCluster();  // stops the hosts (SIGTERM, graceful), then the server
  DevhostCluster(const DevhostCluster&) = delete;
  DevhostCluster& operator=(const DevhostCluster&) = delete;

  PgCluster& pg() noexcept { return *pg_; }
  std::size_t size() const noexcept { return hosts_.size(); }
  DevhostProcess& host(std::size_t i) { return *hosts_.at(i); }
  // The last `lines` lines of every host's stderr, labelled, for a failure message.
  std::string logs(std::size_t lines = 40) const;

 private:
  std::unique_ptr<PgCluster> pg_;
  std::vector<std::unique_ptr<DevhostProcess>> hosts_;
};

struct ApiKey {
  std::int64_t id = 0;
  std::string secret;
};

// A logged-in admin on one host: the key admin routes, billing, the test clock.
// Each call throws std::runtime_error (with the answer) when the host does not answer as the
// route documents. One thread at a time.
class AdminSession {
 public:
  AdminSession(unsigned short port, const std::string& email);  // logs in (throws if refused)

  HttpResult get(const std::string& target);
  HttpResult post(const std::string& target, const std::string& body = "{}");
  HttpResult del(const std::string& target);

  ApiKey create_key(const std::string& label, const std::string& scopes_json = R"(["read"])");
  void revoke(std::int64_t key_id);
  ApiKey rotate(std::int64_t key_id, long long grace_seconds);
  // GET keys/{id}/usage?days=90 (which first writes what this host counted but not yet
  // stored): the "requests" total.
  long long usage_requests(std::int64_t key_id);
  // Buys (POST) or cancels (DELETE) an addon of this admin's clinic.
  void set_addon(const std::string& addon, bool owned);
  // Moves this host's --test-clock.
  void advance_clock(std::chrono::seconds by);

  const LoginSession& session() const noexcept { return session_; }
  HttpClient& http() noexcept { return http_; }

 private:
  HttpClient http_;
  LoginSession session_;
};

// GET `target` on the public API with `Authorization: Bearer <key>`.
HttpResult call_api(HttpClient& client, const std::string& key,
                    const std::string& target = "/api/v1/ping");
// The "error.code" of a JSON error body, or "" when there is none.
std::string error_code(const HttpResult& r);
// "HTTP 401 revoked_api_key" style summary of an answer, for failure messages.
std::string describe(const HttpResult& r);

// Calls `done` until it returns true or `limit` has passed (checked again once after the
// limit). Returns the last result. For waiting on propagation without a fixed sleep.
bool poll_until(std::chrono::milliseconds limit, const std::function<bool()>& done,
                std::chrono::milliseconds interval = std::chrono::milliseconds(5));

}  // namespace mdp::test
