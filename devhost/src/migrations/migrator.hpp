// Applies a plugin's SQL migrations to the host's database. Owned by the devhost; a plugin
// only ships the files (manifest.json "migrations": one folder per dialect).
//
// Files are `NNNN_name.sql` (four digits, then a name), applied in numeric order, each in its
// own transaction together with its row in the host table
//   host_plugin_migrations(plugin_id, version, name, sha256, applied_at)
// so a second start applies nothing. A published migration is never edited: if a recorded
// migration's file now has another SHA-256, or has disappeared, nothing is applied and
// MigrationError says which file. On PostgreSQL every step holds a transaction-scoped advisory
// lock, and on SQLite a write lock (BEGIN IMMEDIATE), so two hosts starting together on one
// database apply each migration once.
#pragma once

#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "mdp/host/services.hpp"

namespace mdp::devhost {

class MigrationError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct MigrationResult {
  std::vector<std::string> applied;  // file names applied by this call, in order
  std::size_t already_applied = 0;   // files found recorded (unchanged) before this call
};

// Throws MigrationError (one line naming the plugin and file) on a bad folder or file name, an
// edited or missing published migration, or SQL that fails (that migration is rolled back;
// earlier ones of this call stay applied).
MigrationResult apply_migrations(host::Database& db, const std::string& plugin_id,
                                 const std::filesystem::path& migrations_dir);

// Creates the bookkeeping table if needed (apply_migrations does this itself).
void ensure_migrations_table(host::Database& db);

}  // namespace mdp::devhost
