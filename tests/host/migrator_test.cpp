// Migrations: numeric order, one transaction each, recorded so a second run applies nothing,
// edited or removed published migrations refused, a failing one rolled back; on SQLite and on a
// real PostgreSQL (MDP_TEST_PG), including two hosts migrating one database at the same time.
#include <fstream>
#include <thread>

#include <gtest/gtest.h>
#include <soci/soci.h>

#include "mdp/host/sdk/migrations.hpp"
#include "services/soci_database.hpp"
#include "support/postgres_env.hpp"
#include "support/temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
using namespace mdp;
using namespace mdp::devhost;
using namespace mdp::host::sdk;
using namespace std::chrono_literals;

void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::trunc) << text;
}

long long count(host::Database& db, const std::string& sql) {
  host::SessionLease s(db, 5s);
  long long n = -1;
  *s << sql, soci::into(n);
  return n;
}

bool table_exists(host::Database& db, const std::string& table) {
  if (db.dialect() == host::Dialect::sqlite)
    return count(db, "SELECT COUNT(*) FROM sqlite_master WHERE type='table' AND name='" + table + "'") == 1;
  return count(db, "SELECT COUNT(*) FROM information_schema.tables WHERE table_name='" + table + "'") == 1;
}

// Migration files whose SQL differs a little per dialect; 0002 holds several statements and a
// semicolon inside a string literal, which naive splitting would break.
void write_base(const fs::path& dir, host::Dialect d) {
  std::string id = d == host::Dialect::sqlite ? "INTEGER PRIMARY KEY" : "BIGSERIAL PRIMARY KEY";
  write(dir / "0001_create_items.sql", "CREATE TABLE mig_items (id " + id + ", label TEXT NOT NULL);\n");
  write(dir / "0002_seed_items.sql",
        "INSERT INTO mig_items (label) VALUES ('one; two');\n"
        "INSERT INTO mig_items (label) VALUES ('three');\n"
        "CREATE INDEX mig_items_label ON mig_items(label);\n");
}

void run_suite(host::Database& db, const fs::path& dir) {
  write_base(dir, db.dialect());
  write(dir / "README.txt", "not a migration, ignored");

  auto first = apply_migrations(db, "test-plugin", dir);
  EXPECT_EQ(first.applied, (std::vector<std::string>{"0001_create_items.sql", "0002_seed_items.sql"}));
  EXPECT_EQ(count(db, "SELECT COUNT(*) FROM mig_items"), 2);
  EXPECT_EQ(count(db, "SELECT COUNT(*) FROM mig_items WHERE label = 'one; two'"), 1);

  auto second = apply_migrations(db, "test-plugin", dir);
  EXPECT_TRUE(second.applied.empty());
  EXPECT_EQ(second.already_applied, 2u);
  EXPECT_EQ(count(db, "SELECT COUNT(*) FROM mig_items"), 2);
  EXPECT_EQ(count(db, "SELECT COUNT(*) FROM host_plugin_migrations WHERE plugin_id = 'test-plugin'"), 2);

  // Another plugin's history is separate.
  fs::path other = dir.parent_path() / "other";
  write(other / "0001_create_items.sql", "CREATE TABLE mig_other (id INTEGER);");
  EXPECT_EQ(apply_migrations(db, "other-plugin", other).applied.size(), 1u);

  // A new migration is applied alone.
  write(dir / "0003_more.sql", "INSERT INTO mig_items (label) VALUES ('four');");
  EXPECT_EQ(apply_migrations(db, "test-plugin", dir).applied, std::vector<std::string>{"0003_more.sql"});

  // A failing migration is rolled back whole and not recorded.
  write(dir / "0004_broken.sql",
        "CREATE TABLE mig_half (id INTEGER);\nINSERT INTO no_such_table VALUES (1);\n");
  try {
    apply_migrations(db, "test-plugin", dir);
    FAIL() << "a broken migration was accepted";
  } catch (const MigrationError& e) {
    EXPECT_NE(std::string(e.what()).find("0004_broken.sql"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(table_exists(db, "mig_half"));
  EXPECT_EQ(count(db, "SELECT COUNT(*) FROM host_plugin_migrations WHERE plugin_id = 'test-plugin'"), 3);
  fs::remove(dir / "0004_broken.sql");

  // Editing a published migration is refused, and nothing new is applied meanwhile.
  write(dir / "0001_create_items.sql", "CREATE TABLE mig_items (id INTEGER, label TEXT, extra TEXT);\n");
  write(dir / "0005_after_edit.sql", "CREATE TABLE mig_after (id INTEGER);");
  try {
    apply_migrations(db, "test-plugin", dir);
    FAIL() << "an edited migration was accepted";
  } catch (const MigrationError& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("0001_create_items.sql"), std::string::npos) << what;
    EXPECT_NE(what.find("edited"), std::string::npos) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos);
  }
  EXPECT_FALSE(table_exists(db, "mig_after"));

  // Removing one is refused too.
  write_base(dir, db.dialect());
  fs::remove(dir / "0002_seed_items.sql");
  EXPECT_THROW(apply_migrations(db, "test-plugin", dir), MigrationError);
}

TEST(Migrations, SqliteAppliesInOrderOnceAndRefusesEdits) {
  test::TempDir dir;
  SociDatabase db(host::Dialect::sqlite, (dir / "m.db").string(), 2);
  run_suite(db, dir / "sql" / "sqlite");
}

TEST(Migrations, BadFileNamesAndMissingFolderAreRefused) {
  test::TempDir dir;
  SociDatabase db(host::Dialect::sqlite, (dir / "m.db").string(), 1);
  EXPECT_THROW(apply_migrations(db, "p", dir / "absent"), MigrationError);
  write(dir / "sql" / "1_short.sql", "SELECT 1;");
  EXPECT_THROW(apply_migrations(db, "p", dir / "sql"), MigrationError);
  fs::remove(dir / "sql" / "1_short.sql");
  write(dir / "sql" / "0001_a.sql", "SELECT 1;");
  write(dir / "sql" / "0001_b.sql", "SELECT 1;");
  EXPECT_THROW(apply_migrations(db, "p", dir / "sql"), MigrationError);
}

TEST(Migrations, SqlitePoolSessionsHaveWalBusyTimeoutAndForeignKeys) {
  test::TempDir dir;
  SociDatabase db(host::Dialect::sqlite, (dir / "m.db").string(), 3);
  std::vector<std::unique_ptr<host::SessionLease>> leases;
  for (int i = 0; i < 3; ++i) {
    leases.push_back(std::make_unique<host::SessionLease>(db, 1s));
    ASSERT_TRUE(*leases.back());
    auto& s = **leases.back();
    std::string mode;
    int timeout = 0, fk = 0;
    s << "PRAGMA journal_mode", soci::into(mode);
    s << "PRAGMA busy_timeout", soci::into(timeout);
    s << "PRAGMA foreign_keys", soci::into(fk);
    EXPECT_EQ(mode, "wal");
    EXPECT_EQ(timeout, 5000);
    EXPECT_EQ(fk, 1);
  }
  // The pool is exhausted: a borrow times out with nullptr instead of blocking forever.
  host::SessionLease none(db, 10ms);
  EXPECT_FALSE(none);
}

TEST(Migrations, ShippedPluginMigrationsApplyOnceOnSqlite) {
  test::TempDir dir;
  SociDatabase db(host::Dialect::sqlite, (dir / "m.db").string(), 1);
  fs::path sql = fs::path(MDP_API_ACCESS_SQL) / "sqlite";
  auto first = apply_migrations(db, "api-access", sql);
  auto second = apply_migrations(db, "api-access", sql);
  EXPECT_TRUE(second.applied.empty());
  EXPECT_EQ(second.already_applied, first.applied.size());
}

TEST(Migrations, PostgresAppliesInOrderOnceAndRefusesEdits) {
  MDP_PG_CONNINFO_OR_SKIP(pg);
  test::reset_pg_database(pg);
  test::TempDir dir;
  SociDatabase db(host::Dialect::postgresql, pg, 2);
  run_suite(db, dir / "sql" / "postgresql");
}

TEST(Migrations, ShippedPluginMigrationsApplyOnceOnPostgres) {
  MDP_PG_CONNINFO_OR_SKIP(pg);
  test::reset_pg_database(pg);
  SociDatabase db(host::Dialect::postgresql, pg, 1);
  fs::path sql = fs::path(MDP_API_ACCESS_SQL) / "postgresql";
  auto first = apply_migrations(db, "api-access", sql);
  auto second = apply_migrations(db, "api-access", sql);
  EXPECT_TRUE(second.applied.empty());
  EXPECT_EQ(second.already_applied, first.applied.size());
}

TEST(Migrations, PostgresTwoHostsMigratingAtOnceApplyEachMigrationOnce) {
  MDP_PG_CONNINFO_OR_SKIP(pg);
  test::reset_pg_database(pg);
  test::TempDir dir;
  fs::path sql = dir / "sql";
  write_base(sql, host::Dialect::postgresql);
  for (int i = 3; i <= 8; ++i)
    write(sql / ("000" + std::to_string(i) + "_more.sql"), "INSERT INTO mig_items (label) VALUES ('x');");
  SociDatabase a(host::Dialect::postgresql, pg, 1), b(host::Dialect::postgresql, pg, 1);
  std::size_t applied_a = 0, applied_b = 0;
  std::string error;
  std::thread ta([&] {
    try { applied_a = apply_migrations(a, "race", sql).applied.size(); } catch (const std::exception& e) { error = e.what(); }
  });
  std::thread tb([&] {
    try { applied_b = apply_migrations(b, "race", sql).applied.size(); } catch (const std::exception& e) { error = e.what(); }
  });
  ta.join();
  tb.join();
  EXPECT_EQ(error, "");
  EXPECT_EQ(applied_a + applied_b, 8u);
  EXPECT_EQ(count(a, "SELECT COUNT(*) FROM mig_items"), 2 + 6);
}

}  // namespace
