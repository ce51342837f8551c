// Services the host lends to a plugin: database, clock, log, users and clinics, subscriptions,
// the scopes of the host's public API, settings, and metrics.
//
// Ownership: the host owns every service object; a plugin receives `HostServices&` in
// Plugin::on_load and may keep that reference until Plugin::on_stop returns, never after.
// Threads: every method here may be called from any thread, concurrently, unless it says
// otherwise.
//
// Every declaration here exists since ABI 1.0 unless it says otherwise.
//
// Failure model (since ABI 2.0). Everything behind these services (the database, the host's
// own tables, another host process) can be slow, down or restarting. No method throws. A call
// that can fail says so in its type:
//   - Lookup<T> answers found (with a value), not_found (the host looked: there is none), or
//     unavailable (the host could not look right now). not_found is an answer a plugin may
//     cache; unavailable is NOT an answer: the plugin must never cache it, never read it as
//     "no" or "disabled", and should report "try again" (HTTP 503 with Retry-After) to whoever
//     asked. The host never blocks a Lookup for longer than its own bounded wait (the devhost:
//     about 2 s for a free, healthy database session).
//   - Database::borrow returns nullptr when no healthy session became free in time, which is
//     also what it returns while the database is unreachable. A borrowed soci::session reports
//     SQL and connection errors as soci::soci_error exceptions that the plugin catches on its own
//     side (no exception may cross back into the host); see Database for what to do then.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
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
// The answer of a host lookup that can fail (see "Failure model" above). Since 2.0.
enum class LookupStatus : std::uint8_t {
  found,        // `value` holds the answer
  not_found,    // the host looked and there is none (an unknown id): a real answer
  unavailable,  // the host could not look (database down, timeout): not an answer, never cache
};

template <class T>
struct Lookup {
  LookupStatus status = LookupStatus::unavailable;
  T value{};  // meaningful only when status == found

  static Lookup found(T v) { return Lookup{LookupStatus::found, std::move(v)}; }
  static Lookup not_found() { return Lookup{LookupStatus::not_found, T{}}; }
  static Lookup unavailable() { return Lookup{LookupStatus::unavailable, T{}}; }
  bool is_found() const noexcept { return status == LookupStatus::found; }
  bool is_unavailable() const noexcept { return status == LookupStatus::unavailable; }
};

// ---------------------------------------------------------------------------------------------
// Database: the host's database, shared with the host and other plugins.
enum class Dialect { sqlite, postgresql };

//
// Sessions come from the host's pool. What the host promises:
//   - a borrowed session is open, connected as far as the host knows, and in autocommit mode;
//   - the pool heals itself: a session whose connection died (the database restarted, the
//     network dropped) is detected when it is given back or next borrowed, and reopened with
//     backoff; borrow() meanwhile returns nullptr rather than a dead session;
//   - the pool holds at least 4 sessions (the devhost: 8).
// What the plugin promises:
//   - a statement that throws soci::soci_error means "could not tell" unless the plugin knows
//     better (a constraint it violated on purpose); the plugin gives the session back as usual
//     and borrows again later: a held session is never healed in place;
//   - it holds at most 2 sessions for longer than one operation (for prepared statements of a
//     hot path, and for a LISTEN connection on PostgreSQL), and gives them back at on_stop. A
//     session given back after LISTEN has run UNLISTEN * first;
//   - it leaves no transaction open on a session it gives back.
class BOOST_SYMBOL_VISIBLE Database {
 public:
  virtual ~Database() = default;
  virtual Dialect dialect() const noexcept = 0;

  // Borrows a session, waiting at most `timeout` for a free and healthy one. Returns nullptr
  // when none became available in time, including while the database is unreachable (the
  // plugin answers 503 or retries later). The session must be given back with
  // give_back(token), from the same or another thread; use SessionLease below rather than
  // calling these directly. Any thread.
  virtual soci::session* borrow(std::chrono::milliseconds timeout, std::size_t& token) noexcept = 0;
  // Returns a borrowed session. The host checks its connection here and reopens it if it died.
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

// Lookups read the host's current state; unavailable while its database is unreachable.
class BOOST_SYMBOL_VISIBLE Directory {
 public:
  virtual ~Directory() = default;
  virtual Lookup<User> user(UserId id) const noexcept = 0;
  virtual Lookup<Clinic> clinic(ClinicId id) const noexcept = 0;
};

// ---------------------------------------------------------------------------------------------
// Subscriptions: a clinic's tier and addons, and whether a declared feature is on for it.
enum class FeatureSource { none, tier, addon };

struct FeatureState {
  bool enabled = false;
  FeatureSource source = FeatureSource::none;  // what grants it; none when disabled
};

// How a plan grants a feature: the clinic's tier is one of FeatureSpec::tiers (source tier), or
// else the clinic holds FeatureSpec::addon (source addon); otherwise it is disabled. Every call
// reads the host's current state. Plan changes are announced to every host process through
// Plugin::on_subscription_changed, so a plugin may cache found answers until told otherwise.
class BOOST_SYMBOL_VISIBLE Subscriptions {
 public:
  virtual ~Subscriptions() = default;
  // not_found: no such clinic.
  virtual Lookup<std::string> tier(ClinicId clinic) const noexcept = 0;
  // The clinic's addons, sorted; not_found: no such clinic.
  virtual Lookup<std::vector<std::string>> addons(ClinicId clinic) const noexcept = 0;
  // For a feature a plugin declared (Registrar::add_feature). found: the verdict (enabled or
  // not, and why); not_found: unknown clinic or undeclared feature (treat as disabled);
  // unavailable: could not tell (never treat as disabled, never cache).
  virtual Lookup<FeatureState> feature(ClinicId clinic, std::string_view feature_id) const noexcept = 0;
};

// ---------------------------------------------------------------------------------------------
// Settings (since 2.0): values the host's operator set for this plugin (the devhost:
// `--plugin-setting <plugin-id>.<name>=<value>`). Fixed while the plugin is loaded. Read at load; the plugin documents each name,
// its default and its range, and refuses to load (LoadResult) on a value it cannot use.
class BOOST_SYMBOL_VISIBLE Settings {
 public:
  virtual ~Settings() = default;
  // The value set for `name` (without the plugin id prefix), or nullopt when unset.
  virtual std::optional<std::string> value(std::string_view name) const noexcept = 0;
};

// ---------------------------------------------------------------------------------------------
// The scopes the host's public API checks, e.g. "read", "appointments:write".
struct ApiScope {
  std::string id;
  std::string description;  // one line for an admin choosing scopes
  bool write = false;       // true for scopes that change data
};

// ---------------------------------------------------------------------------------------------
// Metrics (since 2.1): counters, gauges and histograms a plugin declares once and the host
// exports to its operators (the devhost: Prometheus text format at GET /metrics).
//
// The shape follows Prometheus: a family has a name, a help line and label names, fixed at
// registration; each combination of label values is one series. Conventions the host relies on:
//   - names match [a-zA-Z_:][a-zA-Z0-9_:]* and start with the plugin's own prefix
//     ("mdp_api_access_..."); counters end in "_total"; durations are in seconds
//     ("_seconds"), sizes in base units;
//   - label names match [a-zA-Z_][a-zA-Z0-9_]* and do not start with "__";
//   - label values come from a small, fixed set the plugin controls (a decision code, "hit" or
//     "miss"). NEVER a secret, a key preview, a person's or a clinic's name, an address or any
//     other value a client chooses: every label value is a new series that lives as long as the
//     process, and the exposition is readable by whoever may scrape it.
//
// Cost model: registration (Metrics::counter/gauge/histogram) and series resolution
// (Family::with) are thread-safe but may lock and allocate: do both at load, keep the
// returned references, and never resolve a series per request. Updating a series never blocks
// on I/O, never allocates and never throws, from any thread, concurrently:
//   - Counter::add and Gauge::set/add are lock-free (the devhost: counters striped per thread);
//   - Histogram::observe may take a short per-series lock (the devhost: prometheus-cpp's), so a
//     plugin observes histograms off its hottest path (per database lookup, per flush), not per
//     cached decision.
//
// Failure model: metrics never stop a plugin from serving. A registration the host cannot honour
// (an invalid name, a name already registered with another type, other label names or other
// buckets, a `with` given the wrong number of values) is logged by the host (one line naming it)
// and answered with a family or series that discards what it receives. A host that exports no
// metrics returns such a discarding implementation for everything (mdp/host/sdk/no_metrics.hpp).
//
// Lifetime: every reference returned here is owned by the host and valid until Plugin::on_stop
// returns. A host may keep the series after the plugin is unloaded, and a plugin loaded again
// that registers the same family (same name, type, help, labels and buckets) gets the same
// series back, so counters stay monotonic for the life of the host process.
class BOOST_SYMBOL_VISIBLE Counter {
 public:
  // Adds `amount` (>= 0; a negative or non-finite amount is ignored). Lock-free.
  virtual void add(double amount) noexcept = 0;

 protected:
  ~Counter() = default;
};

class BOOST_SYMBOL_VISIBLE Gauge {
 public:
  virtual void set(double value) noexcept = 0;   // lock-free
  virtual void add(double amount) noexcept = 0;  // lock-free; negative to decrease

 protected:
  ~Gauge() = default;
};

class BOOST_SYMBOL_VISIBLE Histogram {
 public:
  // Counts `value` in the first bucket whose upper bound is >= value, and adds it to the sum.
  // Never blocks on I/O; may take a short lock (see the cost model above).
  virtual void observe(double value) noexcept = 0;

 protected:
  ~Histogram() = default;
};

// A family's series for one combination of label values, given in the order of the label names
// registered (an empty list for a family without labels). Resolving the same values again
// returns the same series.
class BOOST_SYMBOL_VISIBLE CounterFamily {
 public:
  virtual Counter& with(const std::vector<std::string>& label_values) noexcept = 0;

 protected:
  ~CounterFamily() = default;
};

class BOOST_SYMBOL_VISIBLE GaugeFamily {
 public:
  virtual Gauge& with(const std::vector<std::string>& label_values) noexcept = 0;

 protected:
  ~GaugeFamily() = default;
};

class BOOST_SYMBOL_VISIBLE HistogramFamily {
 public:
  virtual Histogram& with(const std::vector<std::string>& label_values) noexcept = 0;

 protected:
  ~HistogramFamily() = default;
};

class BOOST_SYMBOL_VISIBLE Metrics {
 public:
  virtual ~Metrics() = default;
  virtual CounterFamily& counter(std::string_view name, std::string_view help,
                                 const std::vector<std::string>& label_names) noexcept = 0;
  virtual GaugeFamily& gauge(std::string_view name, std::string_view help,
                             const std::vector<std::string>& label_names) noexcept = 0;
  // `bucket_bounds`: the buckets' upper bounds, strictly increasing and finite (the host adds
  // the +Inf bucket). Bounds that are not are refused as above.
  virtual HistogramFamily& histogram(std::string_view name, std::string_view help,
                                     const std::vector<std::string>& label_names,
                                     const std::vector<double>& bucket_bounds) noexcept = 0;
};

// ---------------------------------------------------------------------------------------------
// Notifications (since 2.1): messages from a plugin to a clinic's admins, delivered by the host
// in the app (the devhost: a bell in the settings header with a list) and by e-mail (the
// devhost: one .eml file per message and recipient in its outbox folder). Who receives them is
// the host's decision: the devhost sends to every user of the clinic with the role "admin".
enum class NotificationSeverity : std::uint8_t { info, warning, danger };

struct Notification {
  ClinicId clinic_id = 0;
  // Names this message, unique within the plugin, e.g. "key/42/rotation_due" (at most 200
  // bytes). The host delivers each (plugin, key) once: a later notify() with a key it already
  // accepted answers accepted and sends nothing. So a plugin unsure whether an earlier call
  // landed (it crashed, or the answer was unavailable) simply calls again with the same key.
  std::string key;
  std::string subject;  // one line of plain text, at most 200 bytes
  std::string body;     // plain text, paragraphs separated by a blank line, at most 8 KiB
  // A host path the message points to (starts with '/', e.g. "/settings/integrations/api-keys"),
  // or empty. The host links it in the app and writes it as a full URL in the e-mail.
  std::string link;
  NotificationSeverity severity = NotificationSeverity::info;
};

enum class NotifyResult : std::uint8_t {
  accepted,     // stored for delivery to every recipient (now or by an earlier call, same key)
  rejected,     // not deliverable as given (unknown clinic, empty or oversized field): not retried
  unavailable,  // the host could not store it right now: call again later with the same key
};

class BOOST_SYMBOL_VISIBLE Notifications {
 public:
  virtual ~Notifications() = default;
  // Stores the message for the clinic's admins. Blocks at most the host's bounded wait for its
  // database (the devhost: about 2 s); never throws. Any thread.
  virtual NotifyResult notify(const Notification& message) noexcept = 0;
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
  virtual const Settings& settings() const noexcept = 0;
  // Since 2.1 (appended: the virtuals above keep their places). A host without metrics returns
  // a discarding implementation, never a dangling reference.
  virtual Metrics& metrics() noexcept = 0;
  // Since 2.1: only a plugin whose mdp_plugin_abi() minor is >= 1 may call it (a 2.0 host's
  // table has no such entry; the host refuses such a plugin anyway, see abi.hpp).
  virtual Notifications& notifications() noexcept = 0;
};

}  // namespace mdp::host
