// The devhost's implementation of host::Database: a fixed-size soci::connection_pool on SQLite
// or PostgreSQL. Owned by the devhost; plugins only see the host::Database interface.
//
// Every pooled session is prepared the same way when the pool is built:
//   SQLite:     journal_mode=WAL, busy_timeout=5000 ms, foreign_keys=ON, synchronous=NORMAL;
//   PostgreSQL: TimeZone UTC, NOTICEs silenced (libpq would print them on stderr).
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include "mdp/host/services.hpp"

namespace soci {
class connection_pool;
}

namespace mdp::devhost {

// What --database names, parsed. `connect` is a file path for SQLite and a libpq conninfo
// string or postgresql:// URL for PostgreSQL.
struct DatabaseConfig {
  host::Dialect dialect = host::Dialect::sqlite;
  std::string connect;
};

// Accepts "sqlite:PATH", "postgresql://..." / "postgres://...", or a libpq conninfo string
// ("host=... dbname=..."). Throws std::invalid_argument with a one-line reason otherwise.
DatabaseConfig parse_database_option(std::string_view option);

// Thrown by the constructor when a connection cannot be opened.
class DatabaseError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class SociDatabase final : public host::Database {
 public:
  // SQLite: `connect` is a file path (created if absent; its folder must exist).
  // PostgreSQL: a libpq conninfo string or URL. Opens `pool_size` sessions now.
  SociDatabase(host::Dialect dialect, std::string connect, std::size_t pool_size);
  explicit SociDatabase(const DatabaseConfig& config, std::size_t pool_size = 8)
      : SociDatabase(config.dialect, config.connect, pool_size) {}
  ~SociDatabase() override;
  SociDatabase(const SociDatabase&) = delete;
  SociDatabase& operator=(const SociDatabase&) = delete;

  host::Dialect dialect() const noexcept override { return dialect_; }
  soci::session* borrow(std::chrono::milliseconds timeout, std::size_t& token) noexcept override;
  void give_back(std::size_t token) noexcept override;

  std::size_t pool_size() const noexcept { return size_; }

 private:
  host::Dialect dialect_;
  std::size_t size_;
  std::unique_ptr<soci::connection_pool> pool_;
};

// Runs a whole SQL script (several statements) on the session's native handle: sqlite3_exec on
// SQLite, PQexec on PostgreSQL, so nobody splits SQL by hand. Throws DatabaseError carrying the
// backend's message. Used by the migrator and by tests that reset a database.
void execute_script(soci::session& session, host::Dialect dialect, const std::string& sql);

}  // namespace mdp::devhost
