#include "services/soci_database.hpp"

#include <soci/connection-pool.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include <libpq-fe.h>

namespace mdp::devhost {

namespace {

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

void silence_notices(void*, const char*) {}

void prepare_session(soci::session& s, host::Dialect dialect) {
  if (dialect == host::Dialect::sqlite) {
    // WAL lets readers run beside the one writer; busy_timeout makes a writer wait for the
    // lock instead of failing at once with SQLITE_BUSY; foreign keys are off by default.
    execute_script(s, dialect,
                   "PRAGMA journal_mode=WAL; PRAGMA busy_timeout=5000; PRAGMA foreign_keys=ON; "
                   "PRAGMA synchronous=NORMAL;");
  } else {
    auto* be = static_cast<soci::postgresql_session_backend*>(s.get_backend());
    PQsetNoticeProcessor(be->conn_, &silence_notices, nullptr);
    execute_script(s, dialect, "SET TIME ZONE 'UTC'");
  }
}

}  // namespace

DatabaseConfig parse_database_option(std::string_view option) {
  if (starts_with(option, "sqlite:")) {
    std::string path(option.substr(7));
    if (path.empty()) throw std::invalid_argument("--database sqlite: needs a file path");
    return {host::Dialect::sqlite, path};
  }
  if (starts_with(option, "postgresql://") || starts_with(option, "postgres://"))
    return {host::Dialect::postgresql, std::string(option)};
  if (option.find('=') != std::string_view::npos)
    return {host::Dialect::postgresql, std::string(option)};  // libpq conninfo
  throw std::invalid_argument(
      "--database must be sqlite:PATH, postgresql://... or a libpq string like \"host=... "
      "dbname=...\"");
}

SociDatabase::SociDatabase(host::Dialect dialect, std::string connect, std::size_t pool_size)
    : dialect_(dialect), size_(pool_size == 0 ? 1 : pool_size),
      pool_(std::make_unique<soci::connection_pool>(size_)) {
  try {
    for (std::size_t i = 0; i < size_; ++i) {
      soci::session& s = pool_->at(i);
      if (dialect == host::Dialect::sqlite) {
        // Quoted so a path with spaces survives SOCI's "name=value" connect-string parser.
        s.open(soci::sqlite3, "db=\"" + connect + "\"");
      } else {
        s.open(soci::postgresql, connect);
      }
      prepare_session(s, dialect);
    }
  } catch (const std::exception& e) {
    // SOCI's messages for a failed connect may echo the connect string; it carries no password
    // in the devhost's uses (socket + trust or a URL the operator typed), so it is kept.
    throw DatabaseError(std::string("cannot open the database: ") + e.what());
  }
}

SociDatabase::~SociDatabase() = default;

soci::session* SociDatabase::borrow(std::chrono::milliseconds timeout,
                                    std::size_t& token) noexcept {
  try {
    std::size_t pos = 0;
    int ms = timeout.count() < 0 ? -1 : static_cast<int>(timeout.count());
    if (!pool_->try_lease(pos, ms)) return nullptr;
    token = pos;
    return &pool_->at(pos);
  } catch (...) {
    return nullptr;
  }
}

void SociDatabase::give_back(std::size_t token) noexcept {
  try {
    pool_->give_back(token);
  } catch (...) {
  }
}

void execute_script(soci::session& session, host::Dialect dialect, const std::string& sql) {
  if (dialect == host::Dialect::sqlite) {
    auto* be = static_cast<soci::sqlite3_session_backend*>(session.get_backend());
    char* err = nullptr;
    int rc = sqlite_api::sqlite3_exec(be->conn_, sql.c_str(), nullptr, nullptr, &err);
    if (rc != 0) {
      std::string message = err != nullptr ? err : "sqlite3_exec failed";
      sqlite_api::sqlite3_free(err);
      throw DatabaseError(message);
    }
    return;
  }
  auto* be = static_cast<soci::postgresql_session_backend*>(session.get_backend());
  PGresult* res = PQexec(be->conn_, sql.c_str());
  ExecStatusType st = res != nullptr ? PQresultStatus(res) : PGRES_FATAL_ERROR;
  std::string message;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY) {
    message = res != nullptr ? PQresultErrorMessage(res) : PQerrorMessage(be->conn_);
    while (!message.empty() && (message.back() == '\n' || message.back() == ' '))
      message.pop_back();
    if (message.empty()) message = "PQexec failed";
  }
  PQclear(res);
  if (!message.empty()) throw DatabaseError(message);
}

}  // namespace mdp::devhost
