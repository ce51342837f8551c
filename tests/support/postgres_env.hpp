// The PostgreSQL server tests may use: scripts/with-postgres.sh starts a throwaway cluster and
// exports MDP_TEST_PG (a libpq conninfo string). Without it PostgreSQL tests skip, unless
// MDP_REQUIRE_PG=1 (scripts/test.sh, CI), where a missing server fails them.
#pragma once

#include <optional>
#include <string>

#include <gtest/gtest.h>

namespace mdp::test {

std::optional<std::string> pg_conninfo();  // MDP_TEST_PG, if set and non-empty
bool pg_required();                        // MDP_REQUIRE_PG=1

// Empties the database: DROP SCHEMA public CASCADE; CREATE SCHEMA public. Throws on failure.
void reset_pg_database(const std::string& conninfo);

}  // namespace mdp::test

// In a TEST body: declares `std::string var` holding the conninfo, or skips (or fails, when
// MDP_REQUIRE_PG=1) the test when no server is configured.
#define MDP_PG_CONNINFO_OR_SKIP(var)                                                   \
  std::string var;                                                                     \
  do {                                                                                 \
    auto mdp_pg_opt_ = ::mdp::test::pg_conninfo();                                     \
    if (!mdp_pg_opt_) {                                                                \
      if (::mdp::test::pg_required()) FAIL() << "MDP_REQUIRE_PG=1 but MDP_TEST_PG is unset"; \
      GTEST_SKIP() << "MDP_TEST_PG is unset (run under scripts/with-postgres.sh)";      \
    }                                                                                  \
    var = *mdp_pg_opt_;                                                                \
  } while (false)
