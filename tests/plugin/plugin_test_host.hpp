// Test-only host for the plugin's direct tests: the devhost's real SociDatabase, ManualClock and
// migrator (mdp_devhost_core), plus small in-memory Directory, Subscriptions and a Log that
// records every line (so tests can assert no secret is ever logged). Owned by the plugin tests.
#pragma once

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "api_access_plugin.hpp"
#include "mdp/host/plugin.hpp"
#include "services/clocks.hpp"
#include "services/host_services.hpp"
#include "services/prometheus_metrics.hpp"
#include "services/soci_database.hpp"

namespace mdp::host {
// Names the dialect in test listings ("GetParam() = sqlite") instead of a byte dump. Found by ADL.
inline void PrintTo(Dialect d, std::ostream* os) { *os << (d == Dialect::sqlite ? "sqlite" : "postgresql"); }
}  // namespace mdp::host

namespace mdp::api_access::test {

class RecordingLog final : public host::Log {
 public:
  void write(host::LogLevel, std::string_view message) noexcept override {
    std::lock_guard g(m_);
    lines_.emplace_back(message);
  }
  std::vector<std::string> lines() const {
    std::lock_guard g(m_);
    return lines_;
  }
  bool mentions(std::string_view needle) const {
    std::lock_guard g(m_);
    for (const auto& l : lines_)
      if (l.find(needle) != std::string::npos) return true;
    return false;
  }

 private:
  mutable std::mutex m_;
  std::vector<std::string> lines_;
};

class TestDirectory final : public host::Directory {
 public:
  std::map<host::UserId, host::User> users;
  std::map<host::ClinicId, host::Clinic> clinics;
  host::Lookup<host::User> user(host::UserId id) const noexcept override {
    auto it = users.find(id);
    return it == users.end() ? host::Lookup<host::User>::not_found()
                             : host::Lookup<host::User>::found(it->second);
  }
  std::atomic<bool> unavailable{false};  // every clinic lookup answers "could not tell"
  host::Lookup<host::Clinic> clinic(host::ClinicId id) const noexcept override {
    if (unavailable) return host::Lookup<host::Clinic>::unavailable();
    auto it = clinics.find(id);
    return it == clinics.end() ? host::Lookup<host::Clinic>::not_found()
                               : host::Lookup<host::Clinic>::found(it->second);
  }
};

// API access per clinic, switchable by tests; counts how often the plugin asks.
class TestSubscriptions final : public host::Subscriptions {
 public:
  void set(host::ClinicId c, bool on) {
    std::lock_guard g(m_);
    enabled_[c] = on;
  }
  int asked() const {
    std::lock_guard g(m_);
    return asked_;
  }
  // While true, every lookup answers unavailable (the host's database is down).
  void set_unavailable(bool down) {
    std::lock_guard g(m_);
    unavailable_ = down;
  }
  host::Lookup<std::string> tier(host::ClinicId) const noexcept override {
    return host::Lookup<std::string>::found("enterprise");
  }
  host::Lookup<std::vector<std::string>> addons(host::ClinicId) const noexcept override {
    return host::Lookup<std::vector<std::string>>::found({});
  }
  host::Lookup<host::FeatureState> feature(host::ClinicId c, std::string_view id) const noexcept override {
    using L = host::Lookup<host::FeatureState>;
    std::lock_guard g(m_);
    ++asked_;
    if (unavailable_) return L::unavailable();
    auto it = enabled_.find(c);
    if (id != "api_access" || it == enabled_.end()) return L::not_found();
    return it->second ? L::found({true, host::FeatureSource::tier}) : L::found({});
  }

 private:
  mutable std::mutex m_;
  std::map<host::ClinicId, bool> enabled_;
  mutable int asked_ = 0;
  bool unavailable_ = false;
};

// The failing fake of the host's Database: wraps the real pool and, when told, behaves like a
// host whose database is down (borrow() answers nullptr at once, as the contract allows) or slow
// (every borrow waits first). Sessions already lent keep working: a held session dies only when
// its real connection does (PostgreSQL tests kill connections for that).
class FaultyDatabase final : public host::Database {
 public:
  explicit FaultyDatabase(host::Database& real) : real_(real) {}
  void set_down(bool down) { down_ = down; }
  void set_delay(std::chrono::milliseconds d) { delay_ms_ = d.count(); }
  int refused() const { return refused_; }

  host::Dialect dialect() const noexcept override { return real_.dialect(); }
  soci::session* borrow(std::chrono::milliseconds timeout, std::size_t& token) noexcept override {
    if (const auto d = delay_ms_.load(); d > 0)
      std::this_thread::sleep_for(std::chrono::milliseconds(d));
    if (down_) {
      ++refused_;
      return nullptr;
    }
    return real_.borrow(timeout, token);
  }
  void give_back(std::size_t token) noexcept override { real_.give_back(token); }

 private:
  host::Database& real_;
  std::atomic<bool> down_{false};
  std::atomic<long long> delay_ms_{0};
  std::atomic<int> refused_{0};
};

// The host's Notifications, in memory: keeps what it accepted, delivers each key once (as the
// contract says), and can be told to answer unavailable (the host's database is down).
class RecordingNotifications final : public host::Notifications {
 public:
  host::NotifyResult notify(const host::Notification& n) noexcept override {
    std::lock_guard g(m_);
    ++calls_;
    calls_log_.push_back(n);
    if (unavailable_) return host::NotifyResult::unavailable;
    for (const auto& seen : accepted_)
      if (seen.key == n.key) return host::NotifyResult::accepted;
    accepted_.push_back(n);
    return host::NotifyResult::accepted;
  }
  void set_unavailable(bool down) {
    std::lock_guard g(m_);
    unavailable_ = down;
  }
  std::vector<host::Notification> accepted() const {
    std::lock_guard g(m_);
    return accepted_;
  }
  int calls() const {
    std::lock_guard g(m_);
    return calls_;
  }
  // Every call, in order, whatever the answer.
  std::vector<host::Notification> calls_log() const {
    std::lock_guard g(m_);
    return calls_log_;
  }

 private:
  mutable std::mutex m_;
  std::vector<host::Notification> accepted_, calls_log_;
  bool unavailable_ = false;
  int calls_ = 0;
};

std::string dialect_name(host::Dialect d);
inline std::string param_name(const ::testing::TestParamInfo<host::Dialect>& info) {
  return dialect_name(info.param);
}

// Users of the direct tests: two clinics, one admin each.
inline constexpr host::ClinicId kClinicA = 1, kClinicB = 2, kClinicNoPlan = 3;
host::User admin_a();
host::User admin_b();
host::User admin_no_plan();

class TestHost final : public host::HostServices {
 public:
  // Opens (and for PostgreSQL, empties) the database and applies the plugin's migrations.
  // `sqlite_path`: reuse an existing file (restart tests); empty: a fresh temp file.
  TestHost(host::Dialect dialect, std::string pg_conninfo, std::filesystem::path sqlite_path,
           bool fresh);
  ~TestHost() override;

  host::Database& database() noexcept override { return *faults; }
  const host::Clock& clock() const noexcept override { return clock_; }
  host::Log& log() noexcept override { return log_; }
  const host::Directory& directory() const noexcept override { return dir; }
  const host::Subscriptions& subscriptions() const noexcept override { return subs; }
  const std::vector<host::ApiScope>& api_scopes() const noexcept override { return scopes; }
  const host::Settings& settings() const noexcept override { return settings_; }
  host::Metrics& metrics() noexcept override { return metrics_; }
  host::Notifications& notifications() noexcept override { return notes; }

  host::Dialect dialect;
  std::filesystem::path sqlite_path;
  std::unique_ptr<devhost::SociDatabase> db;
  std::unique_ptr<FaultyDatabase> faults;  // what the plugin sees: `db`, unless told to fail
  devhost::ManualClock clock_;
  RecordingLog log_;
  TestDirectory dir;
  TestSubscriptions subs;
  std::vector<host::ApiScope> scopes;
  devhost::PluginSettings settings_;
  devhost::PrometheusMetrics metrics_{log_};  // the devhost's own: tests read its exposition()
  RecordingNotifications notes;

  // Every row of every table, as text (for "no secret at rest" checks).
  std::string dump_database();
};

// Captures what the plugin registers.
class TestRegistrar final : public host::Registrar {
 public:
  std::vector<host::FeatureSpec> features;
  std::vector<host::RouteSpec> routes;
  std::vector<host::PageSpec> pages;
  std::shared_ptr<host::ApiHook> hook;
  void add_feature(host::FeatureSpec f) noexcept override { features.push_back(std::move(f)); }
  void add_route(host::RouteSpec r) noexcept override { routes.push_back(std::move(r)); }
  void add_settings_page(host::PageSpec p) noexcept override { pages.push_back(std::move(p)); }
  void set_api_hook(std::shared_ptr<host::ApiHook> h) noexcept override { hook = std::move(h); }
};

// A request to the public API as the hook sees it.
class FakeApiRequest final : public host::ApiRequest {
 public:
  std::string method_ = "GET", path_ = "/api/v1/patients", query_, scope_ = "read";
  std::vector<std::pair<std::string, std::string>> headers_;

  FakeApiRequest& header(std::string n, std::string v) {
    headers_.emplace_back(std::move(n), std::move(v));
    return *this;
  }
  FakeApiRequest& bearer(const std::string& key) { return header("Authorization", "Bearer " + key); }
  std::string_view method() const noexcept override { return method_; }
  std::string_view path() const noexcept override { return path_; }
  std::string_view query() const noexcept override { return query_; }
  std::size_t headers(std::string_view name, std::string_view* out,
                      std::size_t max) const noexcept override;
  std::string_view required_scope() const noexcept override { return scope_; }
  std::string_view client_address() const noexcept override { return client_address_; }
  std::string client_address_ = "192.0.2.10";
};

// The error code of a refusal's JSON body ("<not json: ...>" if it is not JSON).
inline std::string code_of(const host::ApiDecision& d) {
  boost::json::error_code ec;
  auto v = boost::json::parse(d.body, ec);
  if (ec) return "<not json: " + d.body + ">";
  return std::string(v.at("error").at("code").as_string());
}

struct RouteResult {
  int status = 0;
  boost::json::value json;
  std::string body;
  std::vector<host::NameValue> headers;
  std::string header(std::string_view name) const {
    for (const auto& [k, v] : headers)
      if (k == name) return v;
    return "";
  }
  std::string error_code() const;  // json.error.code or ""
};

// A fixture on both dialects: a TestHost, the plugin loaded into it, and helpers to call its
// routes (as the host would after its own auth checks) and its hook.
class PluginTest : public ::testing::TestWithParam<host::Dialect> {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Stops the plugin as the host does (on_stop, then drops it) and loads a new instance on the
  // same database (a restart).
  void restart_plugin();
  void load_plugin();
  void stop_plugin();

  RouteResult call(const std::string& method, const std::string& path, const std::string& body = "",
                   const host::User& user = admin_a());
  // The same for a route whose 200 answers `content_type` (e.g. a CSV export).
  RouteResult call_as(const std::string& method, const std::string& path, const std::string& body,
                      const host::User& user, const std::string& content_type);
  // POST keys with a label and scopes; returns {id, secret}.
  std::pair<std::int64_t, std::string> create_key(const std::string& label = "Power BI sync",
                                                  const std::string& scopes_json = "[\"read\"]",
                                                  const host::User& user = admin_a());
  host::ApiDecision decide(const FakeApiRequest& r, int response_status = -1);
  host::ApiDecision decide_key(const std::string& key, const std::string& scope = "read",
                               int response_status = -1);
  void advance(std::chrono::seconds s) { host_->clock_.advance(s); }

  std::unique_ptr<TestHost> host_;
  std::shared_ptr<ApiAccessPlugin> plugin_;
  std::unique_ptr<TestRegistrar> reg_;
  std::string pg_;
};

}  // namespace mdp::api_access::test
