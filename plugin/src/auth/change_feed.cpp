#include "auth/change_feed.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <string_view>
#include <unordered_set>

#include <libpq-fe.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>

#include "keys/key_state_row.hpp"

namespace mdp::api_access {

namespace {

constexpr const char* kChannel = "api_access_key_changes";
constexpr long long kBatch = 500;  // feed rows read per statement
constexpr std::chrono::milliseconds kFirstBackoff{100};
constexpr std::chrono::milliseconds kListenLeaseWait{1000};

PGconn* native(soci::session& sql) {
  return static_cast<soci::postgresql_session_backend*>(sql.get_backend())->conn_;
}

// One statement on the raw connection (LISTEN / UNLISTEN); false if it failed.
bool exec_plain(PGconn* conn, const char* text) {
  PGresult* r = PQexec(conn, text);
  const bool ok = r != nullptr && PQresultStatus(r) == PGRES_COMMAND_OK;
  PQclear(r);
  return ok;
}

// The database's clock now, in microseconds since the epoch, as SQL: the same expression the
// change triggers (sql/*/0002) use for changed_at.
const char* db_now_micros(host::Dialect d) {
  return d == host::Dialect::postgresql
             ? "(extract(epoch FROM clock_timestamp()) * 1000000)::BIGINT"
             : "CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER)";
}

std::string seconds_text(std::chrono::milliseconds d) {
  return std::to_string(std::chrono::duration_cast<std::chrono::seconds>(d).count()) + " s";
}

}  // namespace

ChangeFeed::ChangeFeed(host::Database& db, KeyCache& cache, KeyLoader& loader, host::Log& log,
                       Options options, PluginMetrics* metrics)
    : db_(db), cache_(cache), loader_(loader), log_(log), options_(options), metrics_(metrics) {
  mark_synced();  // a new process holds nothing stale
}

ChangeFeed::~ChangeFeed() { stop(); }

void ChangeFeed::start() {
  if (thread_.joinable()) return;
  wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd_ < 0) throw std::runtime_error("change feed: eventfd failed");
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
}

void ChangeFeed::stop() noexcept {
  stopping_ = true;
  if (wake_fd_ >= 0) {
    const std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
  }
  if (thread_.joinable()) thread_.join();
  if (wake_fd_ >= 0) {
    ::close(wake_fd_);
    wake_fd_ = -1;
  }
}

void ChangeFeed::mark_synced() noexcept {
  synced_at_.store(Steady::now().time_since_epoch().count(), std::memory_order_relaxed);
}

void ChangeFeed::update_staleness() noexcept {
  const auto since = Steady::now() - Steady::time_point(Steady::duration(synced_at_.load()));
  const bool stale = since > options_.offline_grace;
  if (stale == stale_.load(std::memory_order_relaxed)) return;
  stale_.store(stale, std::memory_order_relaxed);
  if (metrics_ != nullptr) metrics_->feed_stale.set(stale ? 1 : 0);
  if (stale)
    log_.write(host::LogLevel::error,
               "change feed: out of touch with the database for more than " +
                   seconds_text(options_.offline_grace) +
                   " (offline_grace_seconds); API requests answer 503 until it is back");
  else
    log_.write(host::LogLevel::info, "change feed: back in sync; cached keys are trusted again");
}

void ChangeFeed::sleep_interruptibly(std::chrono::milliseconds d) noexcept {
  pollfd p{wake_fd_, POLLIN, 0};
  ::poll(&p, 1, static_cast<int>(d.count()));
}

bool ChangeFeed::sync_now() noexcept {
  try {
    host::SessionLease lease(db_, std::chrono::milliseconds(2000));
    if (!lease) return false;
    catch_up(*lease);
    mark_synced();
    update_staleness();
    return true;
  } catch (...) {
    return false;
  }
}

void ChangeFeed::resync(soci::session& sql) {
  // Caller holds read_mutex_. The feed's end first, then the states: a change that commits in
  // between is both in the states read and above the position (applied twice: harmless).
  long long end = 0;
  soci::indicator end_ind = soci::i_null;
  sql << "SELECT MAX(id) FROM api_access_key_changes", soci::into(end, end_ind);

  std::unordered_set<KeyId> present;
  long long id = 0;
  KeyStateRow row;
  soci::statement st(sql);
  st.exchange(soci::into(id));
  row.bind(st);
  st.alloc();
  st.prepare(std::string("SELECT id, ") + KeyStateRow::kColumns + " FROM api_access_keys");
  st.define_and_bind();
  st.execute();
  row.reset();
  while (st.fetch()) {
    present.insert(id);
    if (cache_.by_id(id) != nullptr) {
      const KeyRules rules = row.rules();
      loader_.apply(id, row.is_revoked(), row.expires_at(), &rules);
    }
    row.reset();
  }
  // A cached key whose row is gone was deleted: it decides as revoked.
  for (CacheEntry* e : cache_.entries())
    if (!present.count(e->key_id)) loader_.apply(e->key_id, true, std::nullopt, nullptr);
  position_ = end_ind == soci::i_ok ? end : 0;
  have_position_ = true;
}

void ChangeFeed::catch_up(soci::session& sql) {
  std::lock_guard guard(read_mutex_);
  if (!have_position_) return resync(sql);
  long long after = position_, change = 0, key = 0, row_id = 0, lag = 0;
  long long limit = kBatch;
  soci::indicator i_row = soci::i_null;
  KeyStateRow row;
  soci::statement st(sql);
  st.exchange(soci::into(change));
  st.exchange(soci::into(key));
  st.exchange(soci::into(row_id, i_row));
  row.bind(st);
  st.exchange(soci::into(lag));
  st.exchange(soci::use(after));
  st.exchange(soci::use(limit));
  st.alloc();
  std::string columns;  // KeyStateRow's columns, of the joined key row
  for (std::string_view c(KeyStateRow::kColumns); !c.empty();) {
    const auto comma = c.find(", ");
    columns += ", k." + std::string(c.substr(0, comma));
    c = comma == std::string_view::npos ? std::string_view() : c.substr(comma + 2);
  }
  st.prepare("SELECT c.id, c.key_id, k.id" + columns + ", " + db_now_micros(db_.dialect()) +
             " - c.changed_at FROM api_access_key_changes c LEFT JOIN api_access_keys k ON k.id = c.key_id "
             "WHERE c.id > :after ORDER BY c.id LIMIT :lim");
  st.define_and_bind();
  for (;;) {
    long long read = 0;
    i_row = soci::i_null;
    row.reset();
    st.execute();
    while (st.fetch()) {
      ++read;
      if (metrics_ != nullptr) metrics_->change_lag_seconds.observe(std::max(0LL, lag) / 1e6);
      if (cache_.by_id(key) != nullptr) {
        const bool gone = i_row != soci::i_ok;  // deleted: decides as revoked
        if (gone) {
          loader_.apply(key, true, std::nullopt, nullptr);
        } else {
          const KeyRules rules = row.rules();
          loader_.apply(key, row.is_revoked(), row.expires_at(), &rules);
        }
        applied_.fetch_add(1, std::memory_order_relaxed);
      }
      position_ = change;
      i_row = soci::i_null;
      row.reset();
    }
    if (read < kBatch) break;
    after = position_;
  }
}

bool ChangeFeed::connect() {
  listen_lease_.emplace(db_, kListenLeaseWait);
  if (!*listen_lease_) {
    listen_lease_.reset();
    return false;
  }
  soci::session& sql = **listen_lease_;
  if (db_.dialect() == host::Dialect::postgresql &&
      !exec_plain(native(sql), (std::string("LISTEN ") + kChannel).c_str()))
    throw std::runtime_error(PQerrorMessage(native(sql)));
  {
    std::lock_guard guard(read_mutex_);
    resync(sql);  // whatever happened while we were not listening
  }
  mark_synced();
  connections_.fetch_add(1, std::memory_order_relaxed);
  if (reported_down_) log_.write(host::LogLevel::info, "change feed: reconnected and caught up");
  reported_down_ = false;
  return true;
}

void ChangeFeed::disconnect() noexcept {
  if (!listen_lease_) return;
  try {
    if (db_.dialect() == host::Dialect::postgresql) {
      PGconn* conn = native(**listen_lease_);
      if (PQstatus(conn) == CONNECTION_OK) exec_plain(conn, "UNLISTEN *");  // the pool's next user must not get our notifications
    }
  } catch (...) {
  }
  listen_lease_.reset();
}

bool ChangeFeed::wait_for_news(std::chrono::milliseconds timeout) {
  pollfd fds[2] = {{wake_fd_, POLLIN, 0}, {-1, POLLIN, 0}};
  PGconn* conn = nullptr;
  if (db_.dialect() == host::Dialect::postgresql) {
    conn = native(**listen_lease_);
    // libpq also reads notifications while a query runs (the last catch-up): those are already
    // queued and will never make the socket readable again, so read the feed at once.
    bool queued = false;
    while (PGnotify* note = PQnotifies(conn)) {
      queued = true;
      PQfreemem(note);
    }
    if (queued) return true;
    fds[1].fd = PQsocket(conn);
    if (fds[1].fd < 0) return false;
  }
  const int n = ::poll(fds, conn != nullptr ? 2 : 1, static_cast<int>(timeout.count()));
  if (n <= 0 || conn == nullptr || (fds[1].revents & (POLLIN | POLLERR | POLLHUP)) == 0) return true;
  if (PQconsumeInput(conn) == 0) return false;  // the connection broke
  while (PGnotify* note = PQnotifies(conn)) PQfreemem(note);  // the payload is only a hint
  return true;
}

void ChangeFeed::run() noexcept {
  auto backoff = kFirstBackoff;
  while (!stopping_) {
    if (!listen_lease_) {
      bool ok = false;
      std::string why = "no database session available";
      try {
        ok = connect();
      } catch (const std::exception& e) {
        why = e.what();
        disconnect();
      } catch (...) {
        disconnect();
      }
      if (!ok) {
        if (!reported_down_)
          log_.write(host::LogLevel::warning,
                     "change feed: cannot reach the database (" + why +
                         "); retrying. Cached keys keep working for " +
                         seconds_text(options_.offline_grace) + ", then answer 503");
        reported_down_ = true;
        update_staleness();
        sleep_interruptibly(backoff);
        backoff = std::min(backoff * 2, options_.poll_interval);
        continue;
      }
      backoff = kFirstBackoff;
    }
    bool alive = false;
    try {
      alive = wait_for_news(options_.poll_interval);
    } catch (...) {
    }
    if (stopping_) break;
    if (alive) {
      try {
        catch_up(**listen_lease_);  // after a notification, and every poll interval regardless
        mark_synced();
      } catch (...) {
        alive = false;
      }
    }
    if (!alive) {
      log_.write(host::LogLevel::warning, "change feed: lost its database connection; reconnecting");
      reported_down_ = true;
      disconnect();
    }
    update_staleness();
  }
  disconnect();
}

}  // namespace mdp::api_access
