#include "support/postgres_env.hpp"

#include <cstdlib>

#include "services/soci_database.hpp"

namespace mdp::test {

std::optional<std::string> pg_conninfo() {
  const char* v = std::getenv("MDP_TEST_PG");
  if (v == nullptr || *v == '\0') return std::nullopt;
  return std::string(v);
}

bool pg_required() {
  const char* v = std::getenv("MDP_REQUIRE_PG");
  return v != nullptr && std::string(v) == "1";
}

void reset_pg_database(const std::string& conninfo) {
  devhost::SociDatabase db(host::Dialect::postgresql, conninfo, 1);
  host::SessionLease s(db, std::chrono::seconds(30));
  if (!s) throw std::runtime_error("no PostgreSQL session");
  devhost::execute_script(*s, host::Dialect::postgresql,
                          "DROP SCHEMA public CASCADE; CREATE SCHEMA public;");
}

}  // namespace mdp::test
