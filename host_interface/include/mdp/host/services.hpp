// Services the host lends to a plugin: database, clock, log, users and clinics, subscriptions,
// and the scopes of the host's public API.
//
// Ownership: the host owns every service object; a plugin receives `HostServices&` in
// Plugin::on_load and may keep that reference until Plugin::on_stop returns, never after.
// Threads: every method here may be called from any thread, concurrently, unless it says
// otherwise. Errors: no method throws; failures come back as empty optionals or false, except
// Database::lease(), whose soci::session reports SQL errors as soci::soci_error exceptions that
// the plugin must catch on its own side (no exception may cross back into the host).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/config.hpp>

namespace soci {
class session;
}

namespace mdp::host {

using ClinicId = std::int64_t;
using UserId = std::int64_t;
using TimePoint = std::chrono::system_clock::time_point;

// ---------------------------------------------------------------------------------------------
// Database: the host's database, shared with the host and other plugins.
enum class Dialect { sqlite, postgresql };

class BOOST_SYMBOL_VISIBLE Database {
 public:
  virtual ~Database() = default;
  virtual Dialect dialect() const noexcept = 0;

  // Borrows a session from the host's pool, waiting at most `timeout` for one to be free.
  // Returns nullptr when none became free in time (the plugin answers 503 or retries later).
  // The session is open, in autocommit mode, and must be given back with give_back(token)
  // from the same or another thread; use SessionLease below rather than calling these directly.
  virtual soci::session* borrow(std::chrono::milliseconds timeout, std::size_t& token) noexcept = 0;
  virtual void give_back(std::size_t token) noexcept = 0;
};

// RAII lease of a pooled session: header-only, so it lives on whichever side uses it.
class SessionLease {
 public:
  SessionLease(Database& db, std::chrono::milliseconds timeout) : db_(&db) {
    session_ = db.borrow(timeout, token_);
  }
  SessionLease(const SessionLease&) = delete;
  SessionLease& operator=(const SessionLease&) = delete;
  ~SessionLease() {
    if (session_ != nullptr) db_->give_back(token_);
  }
  explicit operator bool() const noexcept { return session_ != nullptr; }
  soci::session& operator*() const noexcept { return *session_; }
  soci::session* operator->() const noexcept { return session_; }

 private:
  Database* db_;
  soci::session* session_ = nullptr;
  std::size_t token_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Clock: the only source of "now" a plugin may use, so tests can move time.
// Cost: one virtual call; cheap enough for every request.
class BOOST_SYMBOL_VISIBLE Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint now() const noexcept = 0;
};

// ---------------------------------------------------------------------------------------------
// Log: lines go to the host's log with the plugin id attached. Never pass a secret.
enum class LogLevel { debug, info, warning, error };

class BOOST_SYMBOL_VISIBLE Log {
 public:
  virtual ~Log() = default;
  virtual void write(LogLevel level, std::string_view message) noexcept = 0;
};

// ---------------------------------------------------------------------------------------------
// Users and clinics. A user belongs to exactly one clinic.
struct User {
  UserId id = 0;
  ClinicId clinic_id = 0;
  std::string name;   // display name, e.g. "Dr. Olivia Hart"
  std::string email;
  std::string role;   // host-defined, e.g. "admin" or "staff"
};

struct Clinic {
  ClinicId id = 0;
  std::string name;
  std::string time_zone;  // IANA name; empty means UTC
};

class BOOST_SYMBOL_VISIBLE Directory {
 public:
  virtual ~Directory() = default;
  virtual std::optional<User> user(UserId id) const noexcept = 0;
  virtual std::optional<Clinic> clinic(ClinicId id) const noexcept = 0;
};

// ---------------------------------------------------------------------------------------------
// Subscriptions: a clinic's tier and addons, and whether a declared feature is on for it.
enum class FeatureSource { none, tier, addon };

struct FeatureState {
  bool enabled = false;
  FeatureSource source = FeatureSource::none;  // what grants it; none when disabled
};

class BOOST_SYMBOL_VISIBLE Subscriptions {
 public:
  virtual ~Subscriptions() = default;
  virtual std::optional<std::string> tier(ClinicId clinic) const noexcept = 0;
  virtual std::vector<std::string> addons(ClinicId clinic) const noexcept = 0;
  // For a feature a plugin declared (Registrar::add_feature). Unknown clinic or feature:
  // disabled. Reads the host's current state: a change is visible to the next call.
  virtual FeatureState feature(ClinicId clinic, std::string_view feature_id) const noexcept = 0;
};

// ---------------------------------------------------------------------------------------------
// The scopes the host's public API checks, e.g. "read", "appointments:write".
struct ApiScope {
  std::string id;
  std::string description;  // one line for an admin choosing scopes
  bool write = false;       // true for scopes that change data
};

// ---------------------------------------------------------------------------------------------
// Everything the host lends, in one place.
class BOOST_SYMBOL_VISIBLE HostServices {
 public:
  virtual ~HostServices() = default;
  virtual Database& database() noexcept = 0;
  virtual const Clock& clock() const noexcept = 0;
  virtual Log& log() noexcept = 0;
  virtual const Directory& directory() const noexcept = 0;
  virtual const Subscriptions& subscriptions() const noexcept = 0;
  virtual const std::vector<ApiScope>& api_scopes() const noexcept = 0;
};

}  // namespace mdp::host
