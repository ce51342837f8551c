// The PgCluster fixture itself: a private server that stops and starts again on the same
// conninfo, and leaves nothing behind.
#include "support/pg_cluster.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>

namespace mdp::test {
namespace {

TEST(PgCluster, StopsAndStartsAgainOnTheSameConninfo) {
  PgCluster pg;
  ASSERT_TRUE(pg.running());
  const std::string conninfo = pg.conninfo();
  pg.execute("CREATE TABLE survives_restart (v INTEGER); INSERT INTO survives_restart VALUES (7)");

  pg.stop();
  EXPECT_FALSE(pg.running());
  EXPECT_THROW(pg.execute("SELECT 1"), std::runtime_error);

  pg.start();
  EXPECT_TRUE(pg.running());
  EXPECT_EQ(pg.conninfo(), conninfo);
  // The same data: the row written before the restart is still there.
  EXPECT_NO_THROW(pg.execute("DO $$ BEGIN IF (SELECT v FROM survives_restart) <> 7 THEN "
                             "RAISE EXCEPTION 'lost'; END IF; END $$"));
  EXPECT_THROW(pg.execute("SELECT * FROM no_such_table"), std::runtime_error);
}

TEST(PgCluster, UrlReachesTheSameServer) {
  PgCluster pg;
  EXPECT_EQ(pg.url().rfind("postgresql://postgres@%2F", 0), 0u) << pg.url();
  EXPECT_NE(pg.url().find(":" + std::to_string(pg.port()) + "/mdp_test"), std::string::npos);
}

TEST(PgCluster, DestructorStopsTheServerAndRemovesTheFolder) {
  auto pg = std::make_unique<PgCluster>();
  const auto dir = pg->dir();
  ASSERT_TRUE(std::filesystem::exists(dir / "data" / "postmaster.pid"));
  pg.reset();
  EXPECT_FALSE(std::filesystem::exists(dir));
}

TEST(PgCluster, DestructorCleansUpAStoppedServerToo) {
  auto pg = std::make_unique<PgCluster>();
  const auto dir = pg->dir();
  pg->stop();
  pg.reset();
  EXPECT_FALSE(std::filesystem::exists(dir));
}

}  // namespace
}  // namespace mdp::test
