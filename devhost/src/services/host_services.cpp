#include "services/host_services.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>

#include <soci/soci.h>

#include "services/prometheus_metrics.hpp"
#include "services/soci_database.hpp"
#include "services/subscription_changes.hpp"

namespace mdp::devhost {

using namespace std::chrono_literals;

namespace {
// How long a lookup waits for a free, healthy session before answering unavailable.
constexpr std::chrono::milliseconds kLookupWait = 2s;
}  // namespace

host::Metrics& plugin_metrics(SharedServices& shared) noexcept {
  static host::sdk::NoMetrics none;
  if (shared.metrics != nullptr) return *shared.metrics;
  return none;
}

void FeatureRegistry::add(const host::FeatureSpec& spec) {
  std::unique_lock lock(mutex_);
  specs_.push_back(spec);
}
void FeatureRegistry::remove_all() {
  std::unique_lock lock(mutex_);
  specs_.clear();
}
std::vector<host::FeatureSpec> FeatureRegistry::all() const {
  std::shared_lock lock(mutex_);
  return specs_;
}
std::optional<host::FeatureSpec> FeatureRegistry::find(std::string_view id) const {
  std::shared_lock lock(mutex_);
  for (const auto& s : specs_)
    if (s.id == id) return s;
  return std::nullopt;
}

host::FeatureState evaluate_feature(const host::FeatureSpec& spec, const std::string& tier,
                                    const std::vector<std::string>& addons) {
  if (std::find(spec.tiers.begin(), spec.tiers.end(), tier) != spec.tiers.end())
    return {true, host::FeatureSource::tier};
  if (!spec.addon.empty() && std::find(addons.begin(), addons.end(), spec.addon) != addons.end())
    return {true, host::FeatureSource::addon};
  return {false, host::FeatureSource::none};
}

// Each lookup: not_found when the row is absent, unavailable when no session was free in time
// or a statement failed (connection lost): never "absent" for a database that did not answer.
host::Lookup<host::User> DbDirectory::user(host::UserId id) const noexcept {
  using L = host::Lookup<host::User>;
  try {
    host::SessionLease s(db_, kLookupWait);
    if (!s) return L::unavailable();
    host::User u;
    long long uid = 0, clinic = 0;
    soci::indicator ind = soci::i_null;
    *s << "SELECT id, clinic_id, name, email, role FROM host_users WHERE id = :id",
        soci::into(uid, ind), soci::into(clinic), soci::into(u.name), soci::into(u.email),
        soci::into(u.role), soci::use(static_cast<long long>(id));
    if (!s->got_data() || ind != soci::i_ok) return L::not_found();
    u.id = uid;
    u.clinic_id = clinic;
    return L::found(std::move(u));
  } catch (...) {
    return L::unavailable();
  }
}

host::Lookup<host::Clinic> DbDirectory::clinic(host::ClinicId id) const noexcept {
  using L = host::Lookup<host::Clinic>;
  try {
    host::SessionLease s(db_, kLookupWait);
    if (!s) return L::unavailable();
    host::Clinic c;
    long long cid = 0;
    soci::indicator ind = soci::i_null;
    *s << "SELECT id, name, time_zone FROM host_clinics WHERE id = :id", soci::into(cid, ind),
        soci::into(c.name), soci::into(c.time_zone), soci::use(static_cast<long long>(id));
    if (!s->got_data() || ind != soci::i_ok) return L::not_found();
    c.id = cid;
    return L::found(std::move(c));
  } catch (...) {
    return L::unavailable();
  }
}

host::Lookup<LoginRecord> DbDirectory::user_for_login(const std::string& email) const noexcept {
  using L = host::Lookup<LoginRecord>;
  try {
    host::SessionLease s(db_, kLookupWait);
    if (!s) return L::unavailable();
    LoginRecord r;
    long long uid = 0, clinic = 0;
    soci::indicator ind = soci::i_null;
    *s << "SELECT id, clinic_id, name, email, role, password_hash FROM host_users WHERE email = :e",
        soci::into(uid, ind), soci::into(clinic), soci::into(r.user.name), soci::into(r.user.email),
        soci::into(r.user.role), soci::into(r.password_hash), soci::use(email);
    if (!s->got_data() || ind != soci::i_ok) return L::not_found();
    r.user.id = uid;
    r.user.clinic_id = clinic;
    return L::found(std::move(r));
  } catch (...) {
    return L::unavailable();
  }
}

host::Lookup<std::string> DbSubscriptions::tier(host::ClinicId clinic) const noexcept {
  using L = host::Lookup<std::string>;
  try {
    host::SessionLease s(db_, kLookupWait);
    if (!s) return L::unavailable();
    std::string t;
    soci::indicator ind = soci::i_null;
    *s << "SELECT tier FROM host_clinics WHERE id = :id", soci::into(t, ind),
        soci::use(static_cast<long long>(clinic));
    if (!s->got_data() || ind != soci::i_ok) return L::not_found();
    return L::found(std::move(t));
  } catch (...) {
    return L::unavailable();
  }
}

host::Lookup<std::vector<std::string>> DbSubscriptions::addons(host::ClinicId clinic) const noexcept {
  using L = host::Lookup<std::vector<std::string>>;
  try {
    host::SessionLease s(db_, kLookupWait);
    if (!s) return L::unavailable();
    std::vector<std::string> out;
    std::string a;
    long long cid = clinic, exists = 0;
    *s << "SELECT COUNT(*) FROM host_clinics WHERE id = :c", soci::into(exists), soci::use(cid);
    if (exists == 0) return L::not_found();
    soci::statement st = (s->prepare << "SELECT addon FROM host_clinic_addons WHERE clinic_id = :c"
                                        " ORDER BY addon",
                          soci::into(a), soci::use(cid));
    st.execute();
    while (st.fetch()) out.push_back(a);
    return L::found(std::move(out));
  } catch (...) {
    return L::unavailable();
  }
}

host::Lookup<host::FeatureState> DbSubscriptions::feature(host::ClinicId clinic,
                                                          std::string_view feature_id) const noexcept {
  using L = host::Lookup<host::FeatureState>;
  try {
    auto spec = features_.find(feature_id);
    if (!spec) return L::not_found();
    auto t = tier(clinic);
    if (!t.is_found()) return t.is_unavailable() ? L::unavailable() : L::not_found();
    auto a = addons(clinic);
    if (!a.is_found()) return a.is_unavailable() ? L::unavailable() : L::not_found();
    return L::found(evaluate_feature(*spec, t.value, a.value));
  } catch (...) {
    return L::unavailable();
  }
}

bool DbSubscriptions::set_addon(host::ClinicId clinic, const std::string& addon, bool present) noexcept {
  try {
    host::SessionLease s(db_, kLookupWait);
    if (!s) return false;
    const host::Dialect d = db_.dialect();
    long long cid = clinic;
    // SQLite: BEGIN IMMEDIATE takes the write lock up front (no upgrade failure later).
    execute_script(*s, d, d == host::Dialect::sqlite ? "BEGIN IMMEDIATE" : "BEGIN");
    try {
      soci::statement st =
          present
              // Portable "insert if absent" (SQLite and PostgreSQL both know ON CONFLICT DO NOTHING).
              ? (s->prepare << "INSERT INTO host_clinic_addons (clinic_id, addon) VALUES (:c, :a)"
                               " ON CONFLICT DO NOTHING",
                 soci::use(cid), soci::use(addon))
              : (s->prepare << "DELETE FROM host_clinic_addons WHERE clinic_id = :c AND addon = :a",
                 soci::use(cid), soci::use(addon));
      st.execute(true);
      if (st.get_affected_rows() > 0) record_subscription_change(*s, d, clinic);
      execute_script(*s, d, "COMMIT");
    } catch (...) {
      try {
        execute_script(*s, d, "ROLLBACK");
      } catch (...) {
      }
      throw;
    }
    return true;
  } catch (...) {
    return false;
  }
}

void StderrLog::write(host::LogLevel level, std::string_view message) noexcept {
  const char* name = level == host::LogLevel::debug     ? "debug"
                     : level == host::LogLevel::info    ? "info"
                     : level == host::LogLevel::warning ? "warning"
                                                        : "error";
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
  // One fprintf per line so concurrent writers do not interleave within a line.
  std::fprintf(stderr, "%s %s [%s] %.*s\n", stamp, name, source_.c_str(),
               static_cast<int>(message.size()), message.data());
}

const std::vector<host::ApiScope>& devhost_api_scopes() {
  static const std::vector<host::ApiScope> scopes{
      {"read", "Read patients and appointments (every GET of the public API)", false},
      {"appointments:write", "Create and change appointments", true},
      {"patients:write", "Create and change patient records", true},
  };
  return scopes;
}

void RolePermissions::declare(const std::vector<std::string>& permissions) {
  std::unique_lock lock(mutex_);
  for (const auto& p : permissions)
    if (std::find(admin_.begin(), admin_.end(), p) == admin_.end()) admin_.push_back(p);
}

bool RolePermissions::allows(std::string_view role, std::string_view permission) const {
  if (permission.empty()) return true;
  if (role != "admin") return false;
  std::shared_lock lock(mutex_);
  return std::find(admin_.begin(), admin_.end(), permission) != admin_.end();
}

}  // namespace mdp::devhost
