// Applying a plugin's SQL migrations: the reusable implementation of the contract in
// host_interface/MIGRATIONS.md, part of the SDK library (target MdpHostInterface::sdk, namespace
// mdp::host::sdk). The devhost uses exactly this code; another host calls it before the plugin's
// factory, with its own host::Database.
//
// Since ABI 2.0. Runs on the calling thread (the host's main thread while it loads a plugin),
// borrows one session from `db` for the whole call, and blocks while another host process holds
// the migration lock.
#pragma once

#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "mdp/host/services.hpp"

namespace mdp::host::sdk {

// One line naming the plugin and the file, e.g.
//   api-access: migration /srv/plugins/api-access/sql/sqlite/0002_x.sql was edited after it was
//   applied (sha256 differs); published migrations are never edited, add a new one instead
class MigrationError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The database refused a script run by execute_script; what() is the database's own message.
class ScriptError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct MigrationResult {
  std::vector<std::string> applied;  // file names applied by this call, in order
  std::size_t already_applied = 0;   // files found recorded (unchanged) before this call
};

// Applies every NNNN_name.sql file of `migrations_dir` not yet recorded for `plugin_id`, in
// numeric order, each in its own transaction together with its row in host_plugin_migrations.
// Throws MigrationError (one line) on a bad folder or file name, an edited or missing published
// migration (nothing is applied then), no database session within 30 s, or SQL that fails (that
// migration is rolled back; earlier ones of this call stay applied).
MigrationResult apply_migrations(Database& db, const std::string& plugin_id,
                                 const std::filesystem::path& migrations_dir);

// Creates host_plugin_migrations if it does not exist (apply_migrations does this itself).
void ensure_migrations_table(Database& db);

// Runs `sql`, which may hold several statements, as one script: sqlite3_exec on SQLite, one
// PQexec (the simple query protocol) on PostgreSQL. A migration file must go through this and
// never through a single SOCI statement, which runs only the first statement of a script and
// says nothing about the rest. Throws ScriptError with the database's message.
void execute_script(soci::session& session, Dialect dialect, const std::string& sql);

// SHA-256 of `data` as 64 lowercase hex digits: the checksum recorded for each migration.
std::string sha256_hex(const std::string& data);

}  // namespace mdp::host::sdk
