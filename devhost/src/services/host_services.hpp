// The devhost's implementations of the services it lends to plugins (host_interface
// services.hpp), backed by its own host_* tables. Owned by the devhost; each outlives every
// plugin (main() destroys plugins first).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "mdp/host/plugin.hpp"
#include "mdp/host/sdk/no_metrics.hpp"
#include "services/notifications.hpp"

namespace mdp::devhost {

class PrometheusMetrics;

// Features registered by loaded plugins, for Subscriptions::feature and the Features card.
class FeatureRegistry {
 public:
  void add(const host::FeatureSpec& spec);
  void remove_all();
  std::vector<host::FeatureSpec> all() const;
  std::optional<host::FeatureSpec> find(std::string_view id) const;

 private:
  mutable std::shared_mutex mutex_;
  std::vector<host::FeatureSpec> specs_;
};

// The verdict for one feature given a tier and addons: the tier wins over the addon.
host::FeatureState evaluate_feature(const host::FeatureSpec& spec, const std::string& tier,
                                    const std::vector<std::string>& addons);

// A user and their stored Argon2 hash, for POST /login.
struct LoginRecord {
  host::User user;
  std::string password_hash;
};

// Reads host_users / host_clinics. Also answers the login lookup. Every lookup answers
// unavailable (never not_found) when no session was free in time or a statement failed.
class DbDirectory final : public host::Directory {
 public:
  explicit DbDirectory(host::Database& db) : db_(db) {}
  host::Lookup<host::User> user(host::UserId id) const noexcept override;
  host::Lookup<host::Clinic> clinic(host::ClinicId id) const noexcept override;
  // By e-mail (exact, lowercase); not_found: no such e-mail.
  host::Lookup<LoginRecord> user_for_login(const std::string& email) const noexcept;

 private:
  host::Database& db_;
};

// Reads and writes host_clinics.tier and host_clinic_addons. Every write also records the change
// for every host process (subscription_changes.hpp), in the same transaction.
class DbSubscriptions final : public host::Subscriptions {
 public:
  DbSubscriptions(host::Database& db, const FeatureRegistry& features) : db_(db), features_(features) {}
  host::Lookup<std::string> tier(host::ClinicId clinic) const noexcept override;
  host::Lookup<std::vector<std::string>> addons(host::ClinicId clinic) const noexcept override;
  host::Lookup<host::FeatureState> feature(host::ClinicId clinic,
                                           std::string_view feature_id) const noexcept override;
  // Buys (present) or cancels an addon, at once; idempotent (no change, no record). False when
  // the database could not be reached or the write failed: then nothing changed.
  bool set_addon(host::ClinicId clinic, const std::string& addon, bool present) noexcept;

 private:
  host::Database& db_;
  const FeatureRegistry& features_;
};

// One line per message on stderr: "<time> <level> [<source>] message". Secrets never reach it:
// the devhost logs no credentials, and plugins promise the same (services.hpp).
class StderrLog final : public host::Log {
 public:
  explicit StderrLog(std::string source) : source_(std::move(source)) {}
  void write(host::LogLevel level, std::string_view message) noexcept override;

 private:
  std::string source_;
};

// The scopes of the devhost's public API: read, appointments:write, patients:write.
const std::vector<host::ApiScope>& devhost_api_scopes();

// Role -> permissions. "admin" holds every permission a loaded manifest declares plus the host's
// own "billing.manage"; "staff" holds none of them. An empty permission means "any user".
class RolePermissions {
 public:
  void declare(const std::vector<std::string>& permissions);
  bool allows(std::string_view role, std::string_view permission) const;

 private:
  mutable std::shared_mutex mutex_;
  std::vector<std::string> admin_{"billing.manage"};
};
inline constexpr const char* kBillingPermission = "billing.manage";

// Operator-set plugin settings (--plugin-setting <plugin-id>.<name>=<value>), by plugin id.
class PluginSettings final : public host::Settings {
 public:
  explicit PluginSettings(std::vector<std::pair<std::string, std::string>> values = {})
      : values_(std::move(values)) {}
  std::optional<std::string> value(std::string_view name) const noexcept override {
    for (const auto& [k, v] : values_)
      if (k == name) return v;
    return std::nullopt;
  }

 private:
  std::vector<std::pair<std::string, std::string>> values_;
};

// The services every plugin shares.
struct SharedServices {
  host::Database& database;
  const host::Clock& clock;
  const DbDirectory& directory;
  DbSubscriptions& subscriptions;
  FeatureRegistry& features;
  RolePermissions& permissions;
  // "<plugin-id>.<name>" -> value, from --plugin-setting.
  std::vector<std::pair<std::string, std::string>> plugin_settings = {};
  // The process's metrics registry (GET /metrics); null: plugins get a discarding one.
  PrometheusMetrics* metrics = nullptr;
  // Delivers plugin notifications; null (some tests): notify() answers unavailable.
  NotificationCenter* notifications = nullptr;
};

// HostServices::metrics() of every plugin: the shared registry, or a discarding one.
host::Metrics& plugin_metrics(SharedServices& shared) noexcept;

// What one plugin receives in on_load: the shared services plus a log tagged with its id.
class PluginServices final : public host::HostServices {
 public:
  PluginServices(SharedServices& shared, const std::string& plugin_id)
      : shared_(shared),
        log_(plugin_id),
        settings_(settings_for(shared, plugin_id)),
        notifications_(shared.notifications, plugin_id) {}
  host::Database& database() noexcept override { return shared_.database; }
  const host::Clock& clock() const noexcept override { return shared_.clock; }
  host::Log& log() noexcept override { return log_; }
  const host::Directory& directory() const noexcept override { return shared_.directory; }
  const host::Subscriptions& subscriptions() const noexcept override { return shared_.subscriptions; }
  const std::vector<host::ApiScope>& api_scopes() const noexcept override { return devhost_api_scopes(); }
  const host::Settings& settings() const noexcept override { return settings_; }
  host::Metrics& metrics() noexcept override { return plugin_metrics(shared_); }
  host::Notifications& notifications() noexcept override { return notifications_; }

 private:
  static PluginSettings settings_for(const SharedServices& shared, const std::string& plugin_id) {
    std::vector<std::pair<std::string, std::string>> mine;
    const std::string prefix = plugin_id + ".";
    for (const auto& [k, v] : shared.plugin_settings)
      if (k.rfind(prefix, 0) == 0) mine.emplace_back(k.substr(prefix.size()), v);
    return PluginSettings(std::move(mine));
  }

  SharedServices& shared_;
  StderrLog log_;
  PluginSettings settings_;
  PluginNotifications notifications_;
};

}  // namespace mdp::devhost
