// The devhost's own paths while its PostgreSQL is stopped and after it starts again (a private,
// restartable server: PgCluster), over real HTTP to a child process:
//   - every route that needs the database answers 503 with Retry-After and the documented code
//     (login, session, billing JSON and pages, the public API's own handlers), never 500, and a
//     logged-in admin is never answered 401; logging out needs no database;
//   - within 2 s of the server accepting connections again everything works, with the session
//     cookie from before the outage and no devhost restart;
//   - --database accepts a postgresql:// URL and a libpq key=value string, and refuses a bad URL
//     in one line without echoing its password;
//   - a plan change made on one devhost reaches the plugins of every devhost (pushed by NOTIFY);
//     a change written without a notification arrives through the 1 s poll; a listener that
//     lost its connection announces "every clinic" once it is back.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "support/devhost_cluster.hpp"
#include "support/devhost_process.hpp"
#include "support/http_client.hpp"
#include "support/pg_cluster.hpp"
#include "support/temp_dir.hpp"

namespace mdp::test {
namespace {

using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

// The promise: normal service within 2 s of the database accepting connections again.
constexpr auto kRecovery = 2000ms;

::testing::AssertionResult unavailable(const HttpResult& r, const std::string& code,
                                       const std::string& what) {
  if (r.status == 503 && !r.header("Retry-After").empty() && error_code(r) == code &&
      r.header("Content-Type").find("application/json") != std::string::npos)
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << what << ": " << describe(r) << " Retry-After \""
                                       << r.header("Retry-After") << "\" " << r.body.substr(0, 300);
}

::testing::AssertionResult unavailable_page(const HttpResult& r, const std::string& what) {
  if (r.status == 503 && !r.header("Retry-After").empty() &&
      r.header("Content-Type").find("text/html") != std::string::npos &&
      r.body.find("Database unavailable") != std::string::npos)
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << what << ": HTTP " << r.status << " "
                                       << r.header("Content-Type") << " " << r.body.substr(0, 300);
}

TEST(DevhostOutage, EveryPathAnswers503WhileDownAndWorksWithin2sAfterwards) {
  PgCluster pg;
  DevhostOptions o;
  o.database = pg.url();  // the URL form (the socket folder percent-encoded as the host)
  DevhostProcess host(o);
  host.start();
  HttpClient c("127.0.0.1", host.port());
  AdminSession admin(host.port(), "owner@brightsmiles.test");
  LoginSession leaving = *login(c, "admin@downtown.test");
  const ApiKey key = admin.create_key("Outage");
  ASSERT_EQ(call_api(c, key.secret, "/api/v1/patients").status, 200);  // cached by the plugin
  ASSERT_EQ(admin.get("/settings/billing").status, 200);

  pg.stop();
  const LoginSession& s = admin.session();
  EXPECT_TRUE(unavailable(c.post("/login", R"({"email":"owner@brightsmiles.test","password":"devpass"})"),
                          "database_unavailable", "POST /login"));
  // Unknown e-mails and wrong passwords cannot be told apart from right ones either.
  EXPECT_TRUE(unavailable(c.post("/login", R"({"email":"nobody@x.test","password":"nope"})"),
                          "database_unavailable", "POST /login (unknown e-mail)"));
  EXPECT_TRUE(unavailable(c.get("/session", s.headers(false)), "database_unavailable", "GET /session"));
  EXPECT_TRUE(unavailable(c.get("/billing/features", s.headers(false)), "database_unavailable",
                          "GET /billing/features"));
  EXPECT_TRUE(unavailable(c.request("DELETE", "/billing/addons/api_access", "", s.headers()),
                          "database_unavailable", "DELETE /billing/addons/api_access"));
  EXPECT_TRUE(unavailable(c.get("/plugins/api-access/keys", s.headers(false)), "database_unavailable",
                          "GET /plugins/api-access/keys (the plugin's route)"));
  EXPECT_TRUE(unavailable_page(c.get("/settings/billing", s.headers(false)), "GET /settings/billing"));
  EXPECT_TRUE(unavailable_page(c.get("/settings", s.headers(false)), "GET /settings"));
  EXPECT_TRUE(unavailable_page(c.get("/settings/integrations/api-keys", s.headers(false)),
                               "GET /settings/integrations/api-keys"));
  // The key is still trusted by the plugin (its offline grace); the host's handler needs the
  // database for the patients: 503 service_unavailable, the API's own code.
  EXPECT_TRUE(unavailable(call_api(c, key.secret, "/api/v1/patients"), "service_unavailable",
                          "GET /api/v1/patients"));
  EXPECT_TRUE(unavailable(call_api(c, key.secret, "/api/v1/appointments"), "service_unavailable",
                          "GET /api/v1/appointments"));
  // CSRF is checked from the in-memory session: still 403 without the token, not 503.
  EXPECT_EQ(error_code(c.request("DELETE", "/billing/addons/api_access", "", s.headers(false))),
            "csrf_token_invalid");
  // Logging out needs no database.
  HttpResult out = c.post("/logout", "", leaving.headers());
  EXPECT_EQ(out.status, 200) << out.body;

  pg.start();
  const auto back = SteadyClock::now();
  std::string last;
  const bool recovered = poll_until(kRecovery, [&] {
    auto failed = [&](std::string why) {
      last = std::move(why);
      return false;
    };
    if (!login(c, "owner@brightsmiles.test")) return failed("login refused");
    HttpResult r = c.get("/session", s.headers(false));  // the cookie from before the outage
    if (r.status != 200) return failed("session: " + describe(r));
    r = c.get("/billing/features", s.headers(false));
    if (r.status != 200) return failed("billing: " + describe(r));
    r = c.get("/settings/billing", s.headers(false));
    if (r.status != 200) return failed("billing page: HTTP " + std::to_string(r.status));
    r = call_api(c, key.secret, "/api/v1/patients");
    if (r.status != 200) return failed("public API: " + describe(r));
    return true;
  }, 20ms);
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - back);
  EXPECT_TRUE(recovered) << "not recovered " << kRecovery.count() << " ms after pg_ctl start: " << last
                         << "\n" << host.stderr_text();
  std::printf("recovered %lld ms after pg_ctl start returned (last refusal before: %s)\n",
              static_cast<long long>(took.count()), last.empty() ? "none" : last.c_str());
  // The outage was logged once, and its end.
  const std::string log = host.stderr_text();
  EXPECT_NE(log.find("database unreachable"), std::string::npos) << log;
  EXPECT_NE(log.find("database reachable again"), std::string::npos) << log;
  EXPECT_EQ(log.find("internal_error"), std::string::npos) << log;
  EXPECT_EQ(host.stop(), 0) << host.stderr_text();
}

TEST(DevhostOutage, DatabaseFlagTakesKeyValueStringsAndRefusesBadUrlsInOneLine) {
  PgCluster pg;
  DevhostOptions o;
  o.database = pg.conninfo() + " application_name='devhost under test'";
  DevhostProcess host(o);
  host.start();
  HttpClient c("127.0.0.1", host.port());
  EXPECT_TRUE(login(c, "owner@brightsmiles.test"));
  EXPECT_EQ(host.stop(), 0);

  ExitResult bad = DevhostProcess::run_to_exit(
      {"--listen", "127.0.0.1:0", "--database", "postgresql://ann:s3cret-pw@db.example/clinic?nosuchparam=1"});
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
  EXPECT_EQ(bad.err.find("s3cret"), std::string::npos) << bad.err;
  EXPECT_EQ(std::count(bad.err.begin(), bad.err.end(), '\n'), 1) << bad.err;

  // A well-formed URL to a server that is not there: one line, exit 1, no password either.
  ExitResult absent = DevhostProcess::run_to_exit(
      {"--listen", "127.0.0.1:0", "--database",
       "postgresql://postgres:s3cret-pw@/mdp_test?host=" + (pg.dir() / "nowhere").string()});
  EXPECT_EQ(absent.exit_code, 1) << absent.err;
  EXPECT_EQ(absent.err.find("s3cret"), std::string::npos) << absent.err;
}

// Polls `port` with `key` until the answer is `status` + `code`, at most `limit`; the time it
// took in `took`.
::testing::AssertionResult answers_within(unsigned short port, const std::string& key, int status,
                                          const std::string& code, std::chrono::milliseconds limit,
                                          std::chrono::milliseconds* took = nullptr) {
  HttpClient c("127.0.0.1", port, true);
  HttpResult last;
  const auto t0 = SteadyClock::now();
  bool ok = poll_until(limit, [&] {
    last = call_api(c, key);
    return last.status == status && (code.empty() || error_code(last) == code);
  }, 1ms);
  if (took) *took = std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - t0);
  if (ok) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "port " << port << " still answers " << describe(last)
                                       << " after " << limit.count() << " ms";
}

TEST(DevhostPlanChanges, AnAddonCancelledOnOneHostIsRefusedByTheOthersPlugin) {
  DevhostCluster cluster(2);
  const unsigned short a = cluster.host(0).port(), b = cluster.host(1).port();
  // Downtown Dental is on the professional tier: API access only with the addon.
  AdminSession on_a(a, "admin@downtown.test");
  on_a.set_addon("api_access", true);
  const ApiKey key = on_a.create_key("Plan change");
  ASSERT_TRUE(answers_within(b, key.secret, 200, "", 2s));  // B caches the key and the plan

  // Cancelled on A: B's plugin hears of it from B's listener (NOTIFY), not from a cache expiry.
  on_a.set_addon("api_access", false);
  std::chrono::milliseconds took{};
  EXPECT_TRUE(answers_within(b, key.secret, 403, "api_access_not_enabled", 1000ms, &took))
      << cluster.logs();
  std::printf("addon cancellation on A refused on B after %lld ms\n", static_cast<long long>(took.count()));
  EXPECT_TRUE(answers_within(a, key.secret, 403, "api_access_not_enabled", 1000ms));

  // Bought again on B: A follows.
  AdminSession on_b(b, "admin@downtown.test");
  on_b.set_addon("api_access", true);
  EXPECT_TRUE(answers_within(a, key.secret, 200, "", 1000ms)) << cluster.logs();
}

// Two devhosts loading only the host tests' plugin, which records every
// on_subscription_changed call (GET /plugins/test-good/changes): what each process's listener
// delivers, exactly.
class PlanFeed : public ::testing::Test {
 protected:
  PlanFeed() {
    // A plugins folder holding only the recording test plugin.
    std::filesystem::create_directory_symlink(std::filesystem::path(MDP_TEST_BUNDLES) / "good",
                                              plugins_ / "good");
    for (int i = 0; i < 2; ++i) {
      DevhostOptions o;
      o.database = pg_.conninfo();
      o.plugins_dir = plugins_.path().string();
      hosts_.push_back(std::make_unique<DevhostProcess>(o));
      hosts_.back()->start();  // one after the other: the first creates and seeds the schema
      admins_.push_back(std::make_unique<AdminSession>(hosts_.back()->port(), "owner@brightsmiles.test"));
    }
  }
  // The clinics host `i`'s plugin was told of, in order.
  std::vector<long long> changes(std::size_t i) {
    HttpResult r = admins_.at(i)->get("/plugins/test-good/changes");
    std::vector<long long> out;
    if (r.status != 200) return out;
    boost::json::error_code ec;
    boost::json::value v = boost::json::parse(r.body, ec);
    if (ec || !v.is_object() || !v.as_object().contains("changes")) {
      ADD_FAILURE() << "GET changes: " << r.body;
      return out;
    }
    for (const auto& c : v.at("changes").as_array()) out.push_back(c.to_number<long long>());
    return out;
  }
  // Waits until host `i` was told of `clinic` more than `before` times.
  ::testing::AssertionResult told(std::size_t i, long long clinic, std::size_t before,
                                  std::chrono::milliseconds limit,
                                  std::chrono::milliseconds* took = nullptr) {
    const auto t0 = SteadyClock::now();
    std::vector<long long> seen;
    bool ok = poll_until(limit, [&] {
      seen = changes(i);
      return static_cast<std::size_t>(std::count(seen.begin(), seen.end(), clinic)) > before;
    }, 2ms);
    if (took) *took = std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - t0);
    if (ok) return ::testing::AssertionSuccess();
    std::string list;
    for (long long c : seen) list += std::to_string(c) + " ";
    return ::testing::AssertionFailure() << "host " << i << " was told of [" << list << "], not "
                                         << clinic << " after " << limit.count() << " ms\n"
                                         << hosts_[0]->stderr_text() << hosts_[1]->stderr_text();
  }
  std::size_t count(std::size_t i, long long clinic) {
    auto seen = changes(i);
    return static_cast<std::size_t>(std::count(seen.begin(), seen.end(), clinic));
  }

  PgCluster pg_;
  TempDir plugins_;
  std::vector<std::unique_ptr<DevhostProcess>> hosts_;
  std::vector<std::unique_ptr<AdminSession>> admins_;
};

TEST_F(PlanFeed, AChangeOnOneHostIsPushedToEveryHostsPlugins) {
  // Bright Smiles (clinic 1) buys the test plugin's addon on host 0.
  HttpResult r = admins_[0]->post("/billing/addons/test_addon", "");
  ASSERT_EQ(r.status, 200) << r.body;
  std::chrono::milliseconds took{};
  EXPECT_TRUE(told(1, 1, 0, 1000ms, &took));  // the other process, by NOTIFY
  std::printf("host 1 told of the change after %lld ms\n", static_cast<long long>(took.count()));
  EXPECT_TRUE(told(0, 1, 0, 1000ms));  // and the one that made it
  // Cancelled on host 1: host 0 hears of it.
  const std::size_t before = count(0, 1);
  r = admins_[1]->del("/billing/addons/test_addon");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(told(0, 1, before, 1000ms));
}

TEST_F(PlanFeed, AChangeWithoutANotificationArrivesThroughThePoll) {
  // Written by an operator's SQL: a change row, no NOTIFY.
  pg_.execute("INSERT INTO host_subscription_changes (clinic_id, changed_at) VALUES (3, 0)");
  EXPECT_TRUE(told(0, 3, 0, 2500ms));
  EXPECT_TRUE(told(1, 3, 0, 2500ms));
}

TEST_F(PlanFeed, AListenerThatLostItsConnectionTellsPluginsToForgetEveryClinic) {
  ASSERT_EQ(count(1, 0), 0u);
  // Every client connection cut (a failover, a proxy restart): the listener reconnects and,
  // unable to tell what it missed, announces "every clinic".
  pg_.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
              "WHERE pid <> pg_backend_pid() AND datname = current_database()");
  EXPECT_TRUE(told(1, 0, 0, 3000ms));
  // A restart of the server: the same again, once it is back.
  const std::size_t before = count(1, 0);
  pg_.stop();
  std::this_thread::sleep_for(300ms);
  pg_.start();
  EXPECT_TRUE(told(1, 0, before, 3000ms));
  EXPECT_TRUE(told(0, 0, 0, 3000ms));
  // And the push works again after the reconnection.
  ASSERT_EQ(admins_[0]->post("/billing/addons/test_addon", "").status, 200);
  EXPECT_TRUE(told(1, 1, 0, 1000ms));
}

}  // namespace
}  // namespace mdp::test
