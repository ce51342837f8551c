#include "migrations/migrator.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <map>
#include <sstream>

#include <botan/hash.h>
#include <botan/hex.h>
#include <soci/soci.h>

#include "services/soci_database.hpp"
#include "util/name_grammar.hpp"

namespace mdp::devhost {

namespace {

using namespace std::chrono_literals;

struct MigrationFile {
  int version = 0;
  std::string file_name;
  std::string name;
  std::string sql;
  std::string sha256;
};

std::string sha256_hex(const std::string& data) {
  auto hash = Botan::HashFunction::create_or_throw("SHA-256");
  hash->update(data);
  return Botan::hex_encode(hash->final(), false);
}

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
    if (!grammar::migration_file(file_name, version, name))
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
void locked_transaction(soci::session& s, host::Dialect dialect, Work&& work) {
  if (dialect == host::Dialect::sqlite) {
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

void create_table(soci::session& s, host::Dialect dialect) {
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

void ensure_migrations_table(host::Database& db) {
  host::SessionLease s(db, 30s);
  if (!s) throw MigrationError("no database session free for migrations");
  locked_transaction(*s, db.dialect(), [&] { create_table(*s, db.dialect()); });
}

MigrationResult apply_migrations(host::Database& db, const std::string& plugin_id,
                                 const std::filesystem::path& migrations_dir) {
  const host::Dialect dialect = db.dialect();
  std::vector<MigrationFile> files = read_folder(plugin_id, migrations_dir);
  host::SessionLease s(db, 30s);
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

}  // namespace mdp::devhost
