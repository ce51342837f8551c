// The devhost's implementation of host::Database: a fixed-size pool of SOCI sessions on SQLite
// or PostgreSQL that heals itself. Owned by the devhost; plugins only see host::Database.
//
// Every session is prepared the same way when it is opened or reopened:
//   SQLite:     journal_mode=WAL, busy_timeout=5000 ms, foreign_keys=ON, synchronous=NORMAL;
//   PostgreSQL: TimeZone UTC, NOTICEs silenced (libpq would print them on stderr), and a FATAL
//               received while idle shuts the socket (see below).
//
// Health (PostgreSQL; SQLite files do not disconnect). Each slot is idle, leased, broken, or
// busy (the healer is checking or reopening it):
//   - borrow() hands out only idle sessions that pass a cheap liveness check: PQstatus is OK and
//     a zero-timeout poll() of the socket shows no pending close. A server that shuts down or
//     restarts sends every connection a FATAL message before closing it, so a dead session is
//     seen here without a round trip (the FATAL alone is enough: the socket is shut on it). A session that fails the check is marked broken and borrow() tries
//     the next one;
//   - give_back() rolls back a transaction left open, then runs the same check; a session whose
//     connection died (PQstatus bad, PQtransactionStatus unknown) is marked broken;
//   - one healer thread (never the borrowers) reopens broken sessions, one at a time, with the
//     same parameters and preparation. The first attempt after a failure is immediate; while
//     attempts fail it waits 100 ms, doubling to 500 ms, so a returning server is used within
//     about half a second and a down one sees two connection attempts a second from this process;
//   - every 250 ms the healer runs the cheap check on idle sessions (an idle pool notices a
//     restart with no traffic). After any failure ("suspect" mode) it also sends `SELECT 1`
//     (1 s timeout) once to every idle session not yet checked since that failure, which also
//     catches connections that died without a close (a network cut);
//   - "database down": the last reopen attempt failed. While down, borrow() returns nullptr at
//     once when no idle session passes the check (it does not wait its timeout), and borrowers
//     already waiting are woken with nullptr. The first successful reopen ends it.
// The state changes ("database unreachable", "reachable again") are logged on stderr, once each.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "mdp/host/services.hpp"

namespace mdp::devhost {

// What --database names, parsed. `connect` is a file path for SQLite and, for PostgreSQL, the
// URL or libpq conninfo as given (SociDatabase converts it): never logged, it may hold a password.
struct DatabaseConfig {
  host::Dialect dialect = host::Dialect::sqlite;
  std::string connect;
};

// Accepts "sqlite:PATH", "postgresql://..." / "postgres://..." URLs, or a libpq conninfo string
// ("host=... dbname=..."). Throws std::invalid_argument with a one-line reason (never echoing a
// password) otherwise.
DatabaseConfig parse_database_option(std::string_view option);

// A PostgreSQL URL or key=value string, parsed by libpq itself (PQconninfoParse) and written
// back as key='value' pairs in a form that survives SOCI's connect-string handling (which
// otherwise mangles URLs and values with spaces). Adds connect_timeout=2 when unset, so a
// reconnect to an unreachable host cannot block for minutes. Throws std::invalid_argument
// (libpq's reason with every quoted fragment removed, so no password is echoed).
std::string postgresql_conninfo(std::string_view url_or_conninfo);

// Thrown by the constructor when a connection cannot be opened.
class DatabaseError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class SociDatabase final : public host::Database {
 public:
  // SQLite: `connect` is a file path (created if absent; its folder must exist).
  // PostgreSQL: a libpq conninfo string or URL. Opens `pool_size` sessions now and throws
  // DatabaseError if any cannot be opened (a host does not start without its database).
  SociDatabase(host::Dialect dialect, std::string connect, std::size_t pool_size);
  explicit SociDatabase(const DatabaseConfig& config, std::size_t pool_size = 8)
      : SociDatabase(config.dialect, config.connect, pool_size) {}
  ~SociDatabase() override;  // stops the healer; every session must have been given back
  SociDatabase(const SociDatabase&) = delete;
  SociDatabase& operator=(const SociDatabase&) = delete;

  host::Dialect dialect() const noexcept override { return dialect_; }
  // A negative timeout waits without limit (still nullptr at once while the database is down).
  soci::session* borrow(std::chrono::milliseconds timeout, std::size_t& token) noexcept override;
  void give_back(std::size_t token) noexcept override;

  std::size_t pool_size() const noexcept { return slots_.size(); }

  struct Health {
    std::size_t sessions = 0;  // pool size
    std::size_t idle = 0;      // free and believed connected
    std::size_t leased = 0;
    std::size_t broken = 0;    // waiting to be reopened (or being reopened)
    bool database_down = false;
    std::uint64_t reopened = 0;         // sessions reopened since start
    std::uint64_t failed_attempts = 0;  // reopen attempts that failed since start
  };
  Health health() const;

  // For code that holds its own connection (the change listener) and saw it die: puts the pool
  // in suspect mode now, so idle sessions are checked within one healer tick.
  void report_connection_lost() noexcept;

  // For code that just reached the database on a connection of its own (the change listener
  // after a reconnection): the healer retries broken sessions now instead of at the end of its
  // backoff, and this waits at most `limit` until the pool is usable again (not "down", not every
  // session broken). True if it is. Any thread.
  bool retry_now_and_wait(std::chrono::milliseconds limit) noexcept;

  // A new session outside the pool, opened and prepared like the pooled ones, for a caller that
  // must hold a connection indefinitely (LISTEN). Throws DatabaseError.
  std::unique_ptr<soci::session> open_session() const;

 private:
  enum class SlotState { idle, leased, broken, busy };
  struct Slot {
    std::unique_ptr<soci::session> session;
    SlotState state = SlotState::idle;
    bool checked = true;  // passed a round trip (or was reopened) since the last failure
  };

  void open_into(soci::session& s) const;               // open + prepare; throws
  bool alive(soci::session& s) noexcept;                // the cheap check
  bool clean_after_use(soci::session& s) noexcept;      // rollback if needed + cheap check
  bool ping(soci::session& s) noexcept;                 // SELECT 1 with a timeout
  void mark_broken_locked(std::size_t i);
  void heal_loop();
  void heal_one(std::unique_lock<std::mutex>& lock, std::size_t i);
  void check_idle(std::unique_lock<std::mutex>& lock);

  const host::Dialect dialect_;
  const std::string connect_;  // may hold a password: never logged

  mutable std::mutex mutex_;
  std::condition_variable available_;  // borrowers: an idle slot, "down", or stopping
  std::condition_variable wake_healer_;
  std::vector<Slot> slots_;
  std::vector<std::size_t> idle_;  // LIFO: the most recently used session goes out first
  std::size_t broken_ = 0;
  bool down_ = false;
  bool suspect_ = false;
  bool stopping_ = false;
  std::chrono::steady_clock::time_point next_attempt_{};
  std::chrono::milliseconds backoff_;
  std::uint64_t reopened_ = 0, failed_attempts_ = 0;
  std::thread healer_;
};

// Runs a whole SQL script (several statements) on the session's native handle: sqlite3_exec on
// SQLite, PQexec on PostgreSQL, so nobody splits SQL by hand. Throws DatabaseError carrying the
// backend's message. Used by the migrator and by tests that reset a database.
void execute_script(soci::session& session, host::Dialect dialect, const std::string& sql);

}  // namespace mdp::devhost
