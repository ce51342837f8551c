#include "services/subscription_changes.hpp"

#include <algorithm>
#include <cerrno>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <optional>
#include <vector>

#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>

#include <libpq-fe.h>

#include "services/host_services.hpp"
#include "services/soci_database.hpp"

namespace mdp::devhost {

using namespace std::chrono_literals;

namespace {

constexpr const char* kChannel = "host_subscription_changes";
// The advisory lock writers of host_subscription_changes take turns on ("host plan feed").
// The plugin's own feed uses a different key.
constexpr const char* kFeedLockSql = "SELECT pg_advisory_xact_lock(7312406400)";
constexpr std::chrono::milliseconds kFirstBackoff = 100ms;
constexpr std::chrono::milliseconds kMaxBackoff = 500ms;
constexpr long long kBatch = 500;

long long micros_since_epoch(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

PGconn* pg_conn(soci::session& s) {
  auto* be = static_cast<soci::postgresql_session_backend*>(s.get_backend());
  return be != nullptr ? be->conn_ : nullptr;
}

}  // namespace

void record_subscription_change(soci::session& s, host::Dialect dialect, host::ClinicId clinic) {
  long long cid = clinic;
  long long at = micros_since_epoch(std::chrono::system_clock::now());
  if (dialect == host::Dialect::sqlite) {
    s << "INSERT INTO host_subscription_changes (clinic_id, changed_at) VALUES (:c, :t)",
        soci::use(cid), soci::use(at);
    return;
  }
  execute_script(s, dialect, kFeedLockSql);
  long long id = 0;
  s << "INSERT INTO host_subscription_changes (clinic_id, changed_at) VALUES (:c, :t) RETURNING id",
      soci::use(cid), soci::use(at), soci::into(id);
  execute_script(s, dialect,
                 std::string("SELECT pg_notify('") + kChannel + "', '" + std::to_string(id) + "')");
}

// ---------------------------------------------------------------------------------------------

struct SubscriptionChangeListener::Connection {
  std::unique_ptr<soci::session> session;
};

SubscriptionChangeListener::SubscriptionChangeListener(SociDatabase& db, Callback on_change)
    : db_(db), on_change_(std::move(on_change)) {}

SubscriptionChangeListener::~SubscriptionChangeListener() {
  stop();
  if (stop_fd_ >= 0) ::close(stop_fd_);
}

void SubscriptionChangeListener::start() {
  stop_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (stop_fd_ < 0) throw DatabaseError("subscription change listener: eventfd failed");
  if (db_.dialect() == host::Dialect::postgresql) {
    if (!connect()) throw DatabaseError("cannot listen for subscription changes: the database is unreachable");
  } else {
    host::SessionLease s(db_, 30s);
    if (!s) throw DatabaseError("cannot read subscription changes: no database session free");
    long long max = 0;
    soci::indicator ind = soci::i_null;
    *s << "SELECT MAX(id) FROM host_subscription_changes", soci::into(max, ind);
    position_ = ind == soci::i_ok ? max : 0;
  }
  next_trim_ = std::chrono::steady_clock::now() + kTrimInterval;
  thread_ = std::thread([this] { run(); });
}

void SubscriptionChangeListener::stop() noexcept {
  if (stopping_.exchange(true)) return;
  if (stop_fd_ >= 0) {
    std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(stop_fd_, &one, sizeof one);
  }
  if (thread_.joinable()) thread_.join();
  conn_.reset();
}

bool SubscriptionChangeListener::connect() noexcept {
  try {
    auto c = std::make_unique<Connection>();
    c->session = db_.open_session();
    // LISTEN first, then the position: a change committed after the position was read is
    // both above it and notified.
    execute_script(*c->session, host::Dialect::postgresql, std::string("LISTEN ") + kChannel);
    long long max = 0;
    soci::indicator ind = soci::i_null;
    *c->session << "SELECT MAX(id) FROM host_subscription_changes", soci::into(max, ind);
    if (ind == soci::i_ok) position_ = std::max<std::int64_t>(position_.load(), max);
    conn_ = std::move(c);
    // Changes up to the position are in the database for any plugin that re-reads now. The
    // plugins will re-read through the pool, which may still be waiting out its backoff: have
    // it heal first, or they would answer "unavailable" to a database that is back.
    if (lost_track_) {
      db_.retry_now_and_wait(2s);
      StderrLog("devhost").write(host::LogLevel::info,
                                 "subscription change listener reconnected: every clinic's plan is re-read");
      on_change_(host::kEveryClinic);
      lost_track_ = false;
    }
    return true;
  } catch (...) {
    conn_.reset();
    return false;
  }
}

soci::session* SubscriptionChangeListener::reader(std::optional<host::SessionLease>& lease) {
  if (conn_) return conn_->session.get();
  lease.emplace(db_, 1s);
  return *lease ? &**lease : nullptr;
}

bool SubscriptionChangeListener::read_new_changes() noexcept {
  try {
    std::optional<host::SessionLease> lease;
    soci::session* s = reader(lease);
    if (s == nullptr) return false;
    std::vector<host::ClinicId> clinics;
    long long pos = position_.load();
    for (;;) {
      long long id = 0, clinic = 0, got = 0;
      soci::statement st = (s->prepare << "SELECT id, clinic_id FROM host_subscription_changes"
                                          " WHERE id > :p ORDER BY id LIMIT " + std::to_string(kBatch),
                            soci::into(id), soci::into(clinic), soci::use(pos));
      st.execute();
      while (st.fetch()) {
        ++got;
        pos = id;
        if (std::find(clinics.begin(), clinics.end(), clinic) == clinics.end()) clinics.push_back(clinic);
      }
      if (got < kBatch) break;
    }
    position_ = pos;
    if (lost_track_) {
      on_change_(host::kEveryClinic);
      lost_track_ = false;
    } else {
      for (host::ClinicId c : clinics) on_change_(c);
    }
    return true;
  } catch (...) {
    return false;
  }
}

void SubscriptionChangeListener::trim_if_due() noexcept {
  const auto now = std::chrono::steady_clock::now();
  if (now < next_trim_) return;
  next_trim_ = now + kTrimInterval;
  try {
    long long cutoff = micros_since_epoch(std::chrono::system_clock::now() - kRetention);
    std::optional<host::SessionLease> lease;
    soci::session* s = reader(lease);
    if (s == nullptr) return;
    *s << "DELETE FROM host_subscription_changes WHERE changed_at < :t", soci::use(cutoff);
  } catch (...) {
    // The next trim tries again; a failed read will notice a dead connection.
  }
}

bool SubscriptionChangeListener::wait(std::chrono::milliseconds timeout) noexcept {
  pollfd p{stop_fd_, POLLIN, 0};
  int r = ::poll(&p, 1, static_cast<int>(timeout.count()));
  return !(r > 0 || stopping_.load());
}

void SubscriptionChangeListener::run() noexcept {
  const bool pg = db_.dialect() == host::Dialect::postgresql;
  auto backoff = kFirstBackoff;
  auto lose_connection = [&] {
    if (!lost_track_)
      StderrLog("devhost").write(host::LogLevel::warning,
                                 "subscription change listener lost the database; reconnecting");
    conn_.reset();
    lost_track_ = true;
    db_.report_connection_lost();
  };
  while (!stopping_.load()) {
    if (pg && !conn_) {
      if (!connect()) {
        if (!wait(backoff)) break;
        backoff = std::min(backoff * 2, kMaxBackoff);
        continue;
      }
      backoff = kFirstBackoff;
    }
    if (!read_new_changes()) {
      if (pg) lose_connection();
      else lost_track_ = true;
      if (!wait(backoff)) break;
      backoff = std::min(backoff * 2, kMaxBackoff);
      continue;
    }
    backoff = kFirstBackoff;
    trim_if_due();
    if (!pg) {
      if (!wait(kPollInterval)) break;
      continue;
    }
    // Wait for a notification (or the server closing), a stop, or the poll interval.
    PGconn* c = pg_conn(*conn_->session);
    if (c == nullptr) {
      lose_connection();
      continue;
    }
    pollfd fds[2] = {{PQsocket(c), POLLIN, 0}, {stop_fd_, POLLIN, 0}};
    int r = ::poll(fds, 2, static_cast<int>(kPollInterval.count()));
    if (stopping_.load() || (r > 0 && fds[1].revents != 0)) break;
    if (r < 0 && errno != EINTR) {
      lose_connection();
      continue;
    }
    if (r > 0 && fds[0].revents != 0) {
      // Notifications only say "read now"; the table says what changed.
      if (PQconsumeInput(c) == 0 || PQstatus(c) != CONNECTION_OK) {
        lose_connection();
        continue;
      }
      while (PGnotify* n = PQnotifies(c)) PQfreemem(n);
    }
  }
}

}  // namespace mdp::devhost
