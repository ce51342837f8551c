// Every plugin path against a host whose services fail: the database down (borrow answers
// nullptr), slow (every borrow waits), its connections killed (PostgreSQL: the server terminates
// them, as a restart does), and plan lookups that cannot tell (Lookup unavailable). What must
// hold (host_interface services.hpp, "Failure model"): "could not tell" is never cached and
// never read as "no"; the hook answers 503 with Retry-After when it cannot decide; cached keys
// keep working for the offline grace and no longer; admin routes answer 503
// database_unavailable; usage counted meanwhile is written once when the database is back.
#include <chrono>
#include <thread>

#include <botan/system_rng.h>
#include <soci/soci.h>
#include <soci/postgresql/soci-postgresql.h>

#include "plugin_context.hpp"
#include "plugin_test_host.hpp"
#include "support/metrics_text.hpp"

namespace mdp::api_access::test {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

class FailureTest : public PluginTest {
 protected:
  // Reloads the plugin with these settings (an empty cache, as after a host restart).
  void reload_with(std::vector<std::pair<std::string, std::string>> settings) {
    host_->settings_ = devhost::PluginSettings(std::move(settings));
    restart_plugin();
  }
  // Decides `key` until `pred` holds or `limit` passes; returns the last decision.
  template <class Pred>
  host::ApiDecision decide_until(const std::string& key, Pred pred,
                                 std::chrono::milliseconds limit = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    host::ApiDecision d = decide_key(key);
    while (!pred(d) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(5ms);
      d = decide_key(key);
    }
    return d;
  }
  // The feed's stale gauge as the host's registry shows it (set by the feed's thread just after
  // the hook's flag: read twice 50 ms apart if the first disagrees with the flag).
  double feed_stale_gauge() {
    auto read = [&] {
      return mdp::test::sample(host_->metrics_.exposition(), "mdp_api_access_change_feed_stale")
          .value_or(-1);
    };
    const double flag = plugin_->context()->feed.stale() ? 1.0 : 0.0;
    if (read() != flag) std::this_thread::sleep_for(50ms);
    return read();
  }
  std::int64_t requests_stored(std::int64_t id) {
    auto r = call("GET", "keys/" + std::to_string(id) + "/usage?days=1");
    EXPECT_EQ(r.status, 200) << r.body;
    return r.status == 200 ? r.json.at("requests").as_int64() : -1;
  }
};

TEST_P(FailureTest, ACacheMissWhileTheDatabaseIsDownAnswers503WithRetryAfter) {
  auto [id, secret] = create_key();
  restart_plugin();  // the key is in the database, not in this process's cache
  host_->faults->set_down(true);
  auto d = decide_key(secret);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.status, 503);
  EXPECT_EQ(code_of(d), "service_unavailable");
  EXPECT_GT(d.retry_after, 0);
  EXPECT_EQ(d.token, 0u);  // nothing to count against: the key is not known yet
  // "Could not tell" was not remembered: the database back, the same key is allowed.
  host_->faults->set_down(false);
  EXPECT_TRUE(decide_key(secret).allowed);
}

TEST_P(FailureTest, AnUnknownKeyWhileTheDatabaseIsDownIsNotCalledInvalid) {
  // A well-formed key the database might hold: 503, not 401 (an integration would give up).
  const std::string forged = generate_key(Botan::system_rng());
  host_->faults->set_down(true);
  auto d = decide_key(forged);
  EXPECT_EQ(d.status, 503);
  host_->faults->set_down(false);
  EXPECT_EQ(code_of(decide_key(forged)), "invalid_api_key");
}

TEST_P(FailureTest, ACachedKeyKeepsWorkingForTheOfflineGraceThenAnswers503) {
  // A SQLite file does not go away under a running process: only PostgreSQL's connections can
  // be cut for real here.
  if (host_->dialect != host::Dialect::postgresql) GTEST_SKIP() << "PostgreSQL connections only";
  reload_with({{"offline_grace_seconds", "1"}, {"change_poll_ms", "50"}});
  auto [id, secret] = create_key();
  auto [revoked_id, revoked_secret] = create_key("Old sync");
  ASSERT_TRUE(decide_key(secret).allowed);
  ASSERT_TRUE(decide_key(revoked_secret).allowed);
  ASSERT_EQ(call("POST", "keys/" + std::to_string(revoked_id) + "/revoke").status, 200);

  // The database goes away: new sessions are refused and every open connection is cut (the
  // change feed's included), as a server restart does.
  host_->faults->set_down(true);
  const auto down_at = std::chrono::steady_clock::now();
  {
    soci::session admin(soci::postgresql, pg_);
    admin << "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
             "WHERE datname = current_database() AND pid <> pg_backend_pid()";
  }
  // Within the grace: still allowed, and a known revocation still wins.
  EXPECT_TRUE(decide_key(secret).allowed);
  EXPECT_EQ(code_of(decide_key(revoked_secret)), "revoked_api_key");

  auto d = decide_until(secret, [](const host::ApiDecision& x) { return !x.allowed; });
  EXPECT_EQ(d.status, 503);
  EXPECT_EQ(code_of(d), "service_unavailable");
  EXPECT_GT(d.retry_after, 0);
  // Not before the grace ran out (less the feed's 50 ms poll: its last read came just before).
  EXPECT_GE(std::chrono::steady_clock::now() - down_at, 900ms);
  EXPECT_EQ(code_of(decide_key(revoked_secret)), "revoked_api_key");
  EXPECT_EQ(feed_stale_gauge(), 1.0) << "operators see why the API answers 503";
  // The database back: the feed reconnects, resyncs, and the key works again.
  host_->faults->set_down(false);
  d = decide_until(secret, [](const host::ApiDecision& x) { return x.allowed; });
  EXPECT_TRUE(d.allowed) << d.body;
  EXPECT_EQ(feed_stale_gauge(), 0.0);
}

TEST_P(FailureTest, APlanTheHostCannotLookUpIs503AndIsNotRemembered) {
  auto [id, secret] = create_key();
  restart_plugin();  // nothing cached about the clinic's plan
  host_->subs.set_unavailable(true);
  auto d = decide_key(secret);
  EXPECT_EQ(d.status, 503);
  EXPECT_EQ(code_of(d), "service_unavailable");
  EXPECT_GT(d.retry_after, 0);
  EXPECT_NE(d.token, 0u);  // the key is known: the refusal counts in its usage
  const int asked = host_->subs.asked();
  host_->subs.set_unavailable(false);
  EXPECT_TRUE(decide_key(secret).allowed);
  EXPECT_GT(host_->subs.asked(), asked);  // asked again, not answered from a cached "no"
  // A real "no" is an answer: cached until the host says the plan changed.
  host_->subs.set(kClinicA, false);
  plugin_->on_subscription_changed(kClinicA);
  EXPECT_EQ(code_of(decide_key(secret)), "api_access_not_enabled");
  host_->subs.set(kClinicA, true);
  EXPECT_EQ(code_of(decide_key(secret)), "api_access_not_enabled");
  plugin_->on_subscription_changed(host::kEveryClinic);  // "forget every plan"
  EXPECT_TRUE(decide_key(secret).allowed);
}

TEST_P(FailureTest, AdminRoutesAnswer503DatabaseUnavailableWithRetryAfter) {
  auto [id, secret] = create_key();
  host_->faults->set_down(true);
  const std::string key = "keys/" + std::to_string(id);
  for (auto [method, path, body] :
       {std::tuple<std::string, std::string, std::string>{"GET", "keys", ""},
        {"POST", "keys", R"({"label":"New","scopes":["read"]})"},
        {"POST", key + "/revoke", ""},
        {"POST", key + "/rotate", "{}"},
        {"GET", key + "/usage?days=7", ""},
        {"GET", "events", ""}}) {
    auto r = call(method, path, body);
    EXPECT_EQ(r.status, 503) << method << " " << path << ": " << r.body;
    EXPECT_EQ(r.error_code(), "database_unavailable") << method << " " << path;
    EXPECT_FALSE(r.header("Retry-After").empty()) << method << " " << path;
  }
  host_->faults->set_down(false);
  EXPECT_EQ(call("GET", "keys").status, 200);
  // Nothing was half-done: the key is still active and no second key appeared.
  auto list = call("GET", "keys");
  ASSERT_EQ(list.json.at("keys").as_array().size(), 1u);
  EXPECT_EQ(list.json.at("keys").at(0).at("status"), "active");
}

TEST_P(FailureTest, CreatingAKeyWhileThePlanIsUnknownIs503NotForbidden) {
  host_->subs.set_unavailable(true);
  auto r = call("POST", "keys", R"({"label":"Power BI sync","scopes":["read"]})");
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_EQ(r.error_code(), "database_unavailable");
  host_->subs.set_unavailable(false);
  EXPECT_EQ(call("POST", "keys", R"({"label":"Power BI sync","scopes":["read"]})").status, 201);
}

TEST_P(FailureTest, ThePageSaysTheKeysCouldNotBeLoaded) {
  create_key();
  ASSERT_FALSE(reg_->pages.empty());
  host::RouteRequest req;
  req.method = "GET";
  req.user = admin_a();
  host_->faults->set_down(true);
  const std::string vm = reg_->pages.front().view_model(req);
  host_->faults->set_down(false);
  auto v = json::parse(vm);  // still a valid view model the host can render
  EXPECT_NE(vm.find("could not be loaded"), std::string::npos) << vm;
  EXPECT_EQ(vm.find("Power BI sync"), std::string::npos);
  (void)v;
}

TEST_P(FailureTest, UsageCountedWhileTheDatabaseIsDownIsWrittenOnceWhenItIsBack) {
  auto [id, secret] = create_key();
  for (int i = 0; i < 10; ++i) decide_key(secret);
  ASSERT_TRUE(plugin_->context()->flush_usage());
  host_->faults->set_down(true);
  for (int i = 0; i < 7; ++i) decide_key(secret);
  EXPECT_FALSE(plugin_->context()->flush_usage());
  EXPECT_FALSE(plugin_->context()->flush_usage());  // retried, still down: nothing lost
  EXPECT_EQ(plugin_->context()->flusher.pending().requests, 7u);
  for (int i = 0; i < 5; ++i) decide_key(secret);
  host_->faults->set_down(false);
  ASSERT_TRUE(plugin_->context()->flush_usage());
  EXPECT_EQ(plugin_->context()->flusher.pending().requests, 0u);
  EXPECT_EQ(requests_stored(id), 22);
  ASSERT_TRUE(plugin_->context()->flush_usage());
  EXPECT_EQ(requests_stored(id), 22);  // never twice
}

TEST_P(FailureTest, ABatchIsAddedOnceEvenWhenItIsSentTwice) {
  // The retry after a COMMIT whose answer was lost sends the same batch id again.
  auto [id, secret] = create_key();
  UsageDelta d;
  d.key_id = id;
  d.day = day_of(plugin_->context()->now());
  d.requests = 4;
  d.client_errors = 1;
  auto& store = plugin_->context()->usage;
  EXPECT_TRUE(store.write_batch("00112233445566778899aabbccddeeff", {d}, {}));
  EXPECT_FALSE(store.write_batch("00112233445566778899aabbccddeeff", {d}, {}));
  EXPECT_TRUE(store.write_batch("ffeeddccbbaa99887766554433221100", {d}, {}));
  EXPECT_EQ(requests_stored(id), 8);
}

TEST_P(FailureTest, AStopWithTheDatabaseDownSaysHowManyCountsItCouldNotWrite) {
  auto [id, secret] = create_key();
  for (int i = 0; i < 3; ++i) decide_key(secret);
  host_->faults->set_down(true);
  stop_plugin();
  host_->faults->set_down(false);
  EXPECT_TRUE(host_->log_.mentions("3 API request(s)")) << "log: see above";
}

TEST_P(FailureTest, ASlowDatabaseDelaysButNeverChangesAnAnswer) {
  auto [id, secret] = create_key();
  const std::string forged = generate_key(Botan::system_rng());
  restart_plugin();
  host_->faults->set_delay(300ms);
  EXPECT_TRUE(decide_key(secret).allowed);
  EXPECT_EQ(code_of(decide_key(forged)), "invalid_api_key");
  EXPECT_EQ(call("GET", "keys").status, 200);
  host_->faults->set_delay(0ms);
}

TEST_P(FailureTest, KilledConnectionsHealAndARevocationMadeMeanwhileArrives) {
  if (host_->dialect != host::Dialect::postgresql) GTEST_SKIP() << "PostgreSQL connections only";
  auto [id, secret] = create_key();
  ASSERT_TRUE(decide_key(secret).allowed);
  // A second host process on the same database.
  TestRegistrar other_reg;
  auto other = std::make_shared<ApiAccessPlugin>();
  ASSERT_TRUE(other->on_load(*host_, other_reg).ok);
  {
    soci::session admin(soci::postgresql, pg_);
    admin << "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
             "WHERE datname = current_database() AND pid <> pg_backend_pid()";
  }
  // The other process revokes as soon as its connections heal (the first attempt may meet a
  // dead connection: 503, then a retry, as an admin would).
  host::RouteRequest req;
  req.method = "POST";
  req.user = admin_a();
  req.path = "keys/" + std::to_string(id) + "/revoke";
  req.params = {{"id", std::to_string(id)}};
  int status = 0;
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  for (const auto& r : other_reg.routes)
    if (r.pattern == "keys/{id}/revoke")
      while ((status = r.handler(req).status) != 200 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(50ms);
  EXPECT_EQ(status, 200);
  auto d = decide_until(secret, [](const host::ApiDecision& x) { return !x.allowed && x.status != 503; });
  EXPECT_EQ(code_of(d), "revoked_api_key");
  other->on_stop();
}

INSTANTIATE_TEST_SUITE_P(Dialects, FailureTest,
                         ::testing::Values(host::Dialect::sqlite, host::Dialect::postgresql),
                         param_name);

}  // namespace
}  // namespace mdp::api_access::test
