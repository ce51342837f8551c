// The host side of hook_bench and page_bench: the devhost's real SociDatabase (a SQLite file in
// WAL mode with the plugin's migrations applied) and ManualClock; log, directory and
// subscriptions minimal and lock-free, with API access on for every clinic.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "mdp/host/sdk/migrations.hpp"
#include "mdp/host/sdk/no_metrics.hpp"
#include "services/clocks.hpp"
#include "services/host_services.hpp"
#include "services/soci_database.hpp"

namespace mdp::bench {

class QuietLog final : public host::Log {
 public:
  void write(host::LogLevel, std::string_view) noexcept override {}
};
class NoDirectory final : public host::Directory {
 public:
  host::Lookup<host::User> user(host::UserId) const noexcept override { return host::Lookup<host::User>::not_found(); }
  host::Lookup<host::Clinic> clinic(host::ClinicId) const noexcept override { return host::Lookup<host::Clinic>::not_found(); }
};
// API access on for every clinic (the plugin caches the answer per clinic anyway).
class AllEnabled final : public host::Subscriptions {
 public:
  host::Lookup<std::string> tier(host::ClinicId) const noexcept override {
    return host::Lookup<std::string>::found("enterprise");
  }
  host::Lookup<std::vector<std::string>> addons(host::ClinicId) const noexcept override {
    return host::Lookup<std::vector<std::string>>::found({});
  }
  host::Lookup<host::FeatureState> feature(host::ClinicId, std::string_view) const noexcept override {
    return host::Lookup<host::FeatureState>::found({true, host::FeatureSource::tier});
  }
};

// Accepts every notification and keeps none.
class AcceptAllNotifications final : public host::Notifications {
 public:
  host::NotifyResult notify(const host::Notification&) noexcept override { return host::NotifyResult::accepted; }
};

class BenchHost final : public host::HostServices {
 public:
  explicit BenchHost(const std::filesystem::path& file)
      : db(host::Dialect::sqlite, file.string(), 4) {
    host::sdk::apply_migrations(db, "api-access", std::filesystem::path(MDP_SQL_DIR) / "sqlite");
    scopes = {{"read", "Read every GET of the public API", false}};
  }
  host::Database& database() noexcept override { return db; }
  const host::Clock& clock() const noexcept override { return clock_; }
  host::Log& log() noexcept override { return log_; }
  const host::Directory& directory() const noexcept override { return dir_; }
  const host::Subscriptions& subscriptions() const noexcept override { return subs_; }
  const std::vector<host::ApiScope>& api_scopes() const noexcept override { return scopes; }
  const host::Settings& settings() const noexcept override { return settings_; }
  // Metrics off (the SDK's discarding service) unless a benchmark points this elsewhere.
  host::Metrics& metrics() noexcept override { return *metrics_; }
  devhost::PluginSettings settings_;
  host::sdk::NoMetrics no_metrics;
  host::Metrics* metrics_ = &no_metrics;
  host::Notifications& notifications() noexcept override { return notes_; }
  AcceptAllNotifications notes_;

  devhost::SociDatabase db;
  devhost::ManualClock clock_;
  QuietLog log_;
  NoDirectory dir_;
  AllEnabled subs_;
  std::vector<host::ApiScope> scopes;
};

}  // namespace mdp::bench
