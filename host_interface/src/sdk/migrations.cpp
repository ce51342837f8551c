#include "mdp/host/sdk/migrations.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <map>
#include <sstream>
#include <string_view>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>


#include <libpq-fe.h>

namespace mdp::host::sdk {

std::string sha256_hex(const std::string& data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr) != 1)
    throw MigrationError("SHA-256 failed (OpenSSL EVP_Digest)");
  char hex[2 * EVP_MAX_MD_SIZE + 1];
  std::size_t written = 0;
  if (OPENSSL_buf2hexstr_ex(hex, sizeof hex, &written, digest, length, '\0') != 1)
    throw MigrationError("SHA-256 hex encoding failed (OpenSSL)");
  std::string out(hex);
  // Lowercase: the form host_plugin_migrations has always recorded.
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

void execute_script(soci::session& session, Dialect dialect, const std::string& sql) {
  if (dialect == Dialect::sqlite) {
    auto* be = static_cast<soci::sqlite3_session_backend*>(session.get_backend());
    if (be == nullptr) throw ScriptError("the session is not connected");
    char* err = nullptr;
    int rc = sqlite_api::sqlite3_exec(be->conn_, sql.c_str(), nullptr, nullptr, &err);
    if (rc != 0) {
      std::string message = err != nullptr ? err : "sqlite3_exec failed";
      sqlite_api::sqlite3_free(err);
      throw ScriptError(message);
    }
    return;
  }
  auto* be = static_cast<soci::postgresql_session_backend*>(session.get_backend());
  PGconn* conn = be != nullptr ? be->conn_ : nullptr;
  if (conn == nullptr) throw ScriptError("the session is not connected");
  PGresult* res = PQexec(conn, sql.c_str());
  ExecStatusType st = res != nullptr ? PQresultStatus(res) : PGRES_FATAL_ERROR;
  std::string message;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY) {
    message = res != nullptr ? PQresultErrorMessage(res) : PQerrorMessage(conn);
    while (!message.empty() && (message.back() == '\n' || message.back() == ' '))
      message.pop_back();
    if (message.empty()) message = PQerrorMessage(conn);
    if (message.empty()) message = "PQexec failed";
  }
  PQclear(res);
  if (!message.empty()) throw ScriptError(message);
}

namespace {

using namespace std::chrono_literals;

// Migration file name: ([0-9]{4})_([A-Za-z0-9_.-]+)\.sql, at most 128 characters; version and
// name go to the outputs. One forward pass, no std::regex.
bool migration_file(std::string_view s, int& version, std::string_view& name) noexcept {
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  auto name_char = [&](char c) {
    return digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '.' ||
           c == '-';
  };
  if (s.size() < 10 || s.size() > 128 || s[4] != '_' || s.substr(s.size() - 4) != ".sql") return false;
  if (!std::all_of(s.begin(), s.begin() + 4, digit)) return false;
  const std::string_view n = s.substr(5, s.size() - 9);
  if (!std::all_of(n.begin(), n.end(), name_char)) return false;
  version = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
  name = n;
  return true;
}

struct MigrationFile {
  int version = 0;
  std::string file_name;
  std::string name;
  std::string sql;
  std::string sha256;
};

std::string now_rfc3339() {
  std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::vector<MigrationFile> read_folder(const std::string& plugin_id,
                                       const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw MigrationError(plugin_id + ": migrations folder " + dir.string() + " does not exist");
  std::map<int, MigrationFile> by_version;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    std::string file_name = entry.path().filename().string();
    if (entry.path().extension() != ".sql") continue;
    int version = 0;
    std::string_view name;
    if (!migration_file(file_name, version, name))
      throw MigrationError(plugin_id + ": migration file " + (dir / file_name).string() +
                           " is not named NNNN_name.sql");
    MigrationFile f;
    f.version = version;
    f.file_name = file_name;
    f.name = std::string(name);
    std::ifstream in(entry.path(), std::ios::binary);
    std::ostringstream buf;
    buf << in.rdbuf();
    if (!in.good() && !in.eof())
      throw MigrationError(plugin_id + ": cannot read " + entry.path().string());
    f.sql = buf.str();
    f.sha256 = sha256_hex(f.sql);
    auto [it, inserted] = by_version.emplace(f.version, f);
    if (!inserted)
      throw MigrationError(plugin_id + ": two migrations share number " + file_name.substr(0, 4) + ": " +
                           it->second.file_name + " and " + file_name);
  }
  std::vector<MigrationFile> files;
  for (auto& [v, f] : by_version) files.push_back(std::move(f));
  return files;
}

// One unit of work under the database's migration lock; rolled back if `work` throws.
template <class Work>
void locked_transaction(soci::session& s, Dialect dialect, Work&& work) {
  if (dialect == Dialect::sqlite) {
    execute_script(s, dialect, "BEGIN IMMEDIATE");
  } else {
    execute_script(s, dialect,
                   "BEGIN; SELECT pg_advisory_xact_lock(hashtext('mdp_host_plugin_migrations'))");
  }
  try {
    work();
    execute_script(s, dialect, "COMMIT");
  } catch (...) {
    try {
      execute_script(s, dialect, "ROLLBACK");
    } catch (...) {
    }
    throw;
  }
}

void create_table(soci::session& s, Dialect dialect) {
  execute_script(s, dialect,
                 "CREATE TABLE IF NOT EXISTS host_plugin_migrations ("
                 " plugin_id TEXT NOT NULL,"
                 " version INTEGER NOT NULL,"
                 " name TEXT NOT NULL,"
                 " sha256 TEXT NOT NULL,"
                 " applied_at TEXT NOT NULL,"
                 " PRIMARY KEY (plugin_id, version))");
}

std::map<int, std::pair<std::string, std::string>> recorded(soci::session& s,
                                                             const std::string& plugin_id) {
  std::map<int, std::pair<std::string, std::string>> out;  // version -> (name, sha256)
  int version = 0;
  std::string name, sha;
  soci::statement st = (s.prepare << "SELECT version, name, sha256 FROM host_plugin_migrations"
                                     " WHERE plugin_id = :p",
                        soci::into(version), soci::into(name), soci::into(sha),
                        soci::use(plugin_id));
  st.execute();
  while (st.fetch()) out[version] = {name, sha};
  return out;
}

}  // namespace

void ensure_migrations_table(Database& db) {
  SessionLease s(db, 30s);
  if (!s) throw MigrationError("no database session free for migrations");
  locked_transaction(*s, db.dialect(), [&] { create_table(*s, db.dialect()); });
}

MigrationResult apply_migrations(Database& db, const std::string& plugin_id,
                                 const std::filesystem::path& migrations_dir) {
  const Dialect dialect = db.dialect();
  std::vector<MigrationFile> files = read_folder(plugin_id, migrations_dir);
  SessionLease s(db, 30s);
  if (!s) throw MigrationError(plugin_id + ": no database session free for migrations");

  MigrationResult result;
  try {
    locked_transaction(*s, dialect, [&] { create_table(*s, dialect); });

    // Check every published migration before applying anything.
    auto check = [&](const std::map<int, std::pair<std::string, std::string>>& rec) {
      for (const auto& [version, row] : rec) {
        // (A copy: clang before 16 cannot capture a structured binding.)
        auto it = std::find_if(files.begin(), files.end(),
                               [v = version](const MigrationFile& f) { return f.version == v; });
        char number[16];
        std::snprintf(number, sizeof number, "%04d", version);
        std::string label = std::string(number) + "_" + row.first + ".sql";
        if (it == files.end())
          throw MigrationError(plugin_id + ": applied migration " + label +
                               " is missing from " + migrations_dir.string() +
                               " (published migrations are never removed)");
        if (it->sha256 != row.second)
          throw MigrationError(plugin_id + ": migration " + (migrations_dir / it->file_name).string() +
                               " was edited after it was applied (sha256 differs); published "
                               "migrations are never edited, add a new one instead");
      }
    };
    auto before = recorded(*s, plugin_id);
    check(before);
    result.already_applied = before.size();

    for (const MigrationFile& f : files) {
      if (before.count(f.version) != 0) continue;
      bool applied_here = false;
      locked_transaction(*s, dialect, [&] {
        // Another host may have applied it since we looked; re-read under the lock.
        auto now_recorded = recorded(*s, plugin_id);
        check(now_recorded);
        if (now_recorded.count(f.version) != 0) return;
        try {
          execute_script(*s, dialect, f.sql);
        } catch (const std::exception& e) {
          throw MigrationError(plugin_id + ": migration " + (migrations_dir / f.file_name).string() +
                               " failed: " + e.what());
        }
        std::string at = now_rfc3339();
        int version = f.version;
        *s << "INSERT INTO host_plugin_migrations (plugin_id, version, name, sha256, applied_at)"
              " VALUES (:p, :v, :n, :h, :a)",
            soci::use(plugin_id), soci::use(version), soci::use(f.name), soci::use(f.sha256),
            soci::use(at);
        applied_here = true;
      });
      if (applied_here) result.applied.push_back(f.file_name);
    }
  } catch (const MigrationError&) {
    throw;
  } catch (const std::exception& e) {
    throw MigrationError(plugin_id + ": migrations failed: " + e.what());
  }
  return result;
}

}  // namespace mdp::host::sdk
