// The plugin's metrics over real HTTP: the devhost (tests/support launches it on a fresh SQLite
// file or the throwaway PostgreSQL) exports them at GET /metrics in the Prometheus text format,
// and each kind of request moves exactly the series it should: decisions by code, the key cache
// and the miss cache, the database lookup, the usage flush, the change feed's lag, throttling.
// (The lag of a change made by another host process: tests/cluster/propagation_test.cpp.)
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include <boost/json.hpp>
#include <botan/system_rng.h>
#include <gtest/gtest.h>

#include "keys/key_format.hpp"
#include "support/devhost_process.hpp"
#include "support/http_client.hpp"
#include "support/metrics_text.hpp"
#include "support/postgres_env.hpp"
#include "support/temp_dir.hpp"

namespace mdp::api_access::http_test {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using mdp::test::HttpClient;
using mdp::test::HttpResult;
using mdp::test::LoginSession;

constexpr const char* kOwner = "owner@brightsmiles.test";  // Bright Smiles (Enterprise), admin
constexpr const char* kKeys = "/plugins/api-access/keys";

// Series names as the devhost writes them.
std::string decisions(const std::string& code) {
  return "mdp_api_access_decisions_total{code=\"" + code + "\"}";
}
std::string cache(const std::string& which, const std::string& result) {
  return "mdp_api_access_cache_lookups_total{cache=\"" + which + "\",result=\"" + result + "\"}";
}
std::string lookups(const std::string& outcome) {
  return "mdp_api_access_key_lookup_seconds_count{outcome=\"" + outcome + "\"}";
}
constexpr const char* kLagCount = "mdp_api_access_change_lag_seconds_count";
constexpr const char* kLagSum = "mdp_api_access_change_lag_seconds_sum";

class MetricsHttpTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    mdp::test::DevhostOptions o;
    if (GetParam() == "PostgreSQL") {
      MDP_PG_CONNINFO_OR_SKIP(pg);
      mdp::test::reset_pg_database(pg);
      o.database = pg;
    } else {
      o.database = mdp::test::sqlite_database(dir_);
    }
    devhost_ = std::make_unique<mdp::test::DevhostProcess>(o);
    devhost_->start();
    http_ = std::make_unique<HttpClient>("127.0.0.1", devhost_->port());
  }
  void TearDown() override {
    if (devhost_) devhost_->stop();
  }

  std::string scrape() {
    HttpResult r = http_->get("/metrics");
    EXPECT_EQ(r.status, 200) << r.body;
    return r.body;
  }
  // How far each of `series` moved while `act` ran.
  std::map<std::string, double> moved(const std::vector<std::string>& series,
                                      const std::function<void()>& act) {
    const std::string before = scrape();
    act();
    const std::string after = scrape();
    std::map<std::string, double> out;
    for (const auto& s : series)
      out[s] = mdp::test::value_or_zero(after, s) - mdp::test::value_or_zero(before, s);
    return out;
  }

  LoginSession login() {
    auto s = mdp::test::login(*http_, kOwner);
    EXPECT_TRUE(s) << "login failed";
    return s.value_or(LoginSession{});
  }
  std::pair<std::int64_t, std::string> create(const LoginSession& s) {
    auto r = http_->post(kKeys, R"({"label":"Power BI sync","scopes":["read"]})",
                         s.headers(true, {{"Content-Type", "application/json"}}));
    EXPECT_EQ(r.status, 201) << r.body;
    if (r.status != 201) return {0, ""};
    auto v = json::parse(r.body);
    return {v.at("key").at("id").as_int64(), std::string(v.at("secret").as_string())};
  }
  HttpResult api(const std::string& key, const std::string& target = "/api/v1/patients") {
    return http_->get(target, {{"Authorization", "Bearer " + key}});
  }

  mdp::test::TempDir dir_;
  std::unique_ptr<mdp::test::DevhostProcess> devhost_;
  std::unique_ptr<HttpClient> http_;
};

TEST_P(MetricsHttpTest, GetMetricsAnswersThePrometheusTextFormatWithoutLogin) {
  HttpResult r = http_->get("/metrics");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("Content-Type").rfind("text/plain; version=0.0.4", 0), 0u) << r.header("Content-Type");
  for (const char* family : {"mdp_api_access_decisions_total counter",
                             "mdp_api_access_throttled_total counter",
                             "mdp_api_access_cache_lookups_total counter",
                             "mdp_api_access_key_lookup_seconds histogram",
                             "mdp_api_access_usage_flush_seconds histogram",
                             "mdp_api_access_usage_flush_failures_total counter",
                             "mdp_api_access_usage_pending_requests gauge",
                             "mdp_api_access_usage_pending_key_days gauge",
                             "mdp_api_access_change_lag_seconds histogram",
                             "mdp_api_access_change_feed_stale gauge"})
    EXPECT_NE(r.body.find(std::string("# TYPE ") + family), std::string::npos) << family;
  // Every refusal code the hook answers is there from the start, at 0, so rate() works at once.
  for (const char* code : {"allowed", "missing_api_key", "invalid_api_key", "revoked_api_key",
                           "expired_api_key", "api_access_not_enabled", "insufficient_scope",
                           "too_many_failed_attempts", "service_unavailable",
                           "api_key_in_query_not_allowed"})
    EXPECT_EQ(mdp::test::sample(r.body, decisions(code)), 0.0) << code;
  EXPECT_EQ(mdp::test::sample(r.body, "mdp_api_access_change_feed_stale"), 0.0);

  HttpResult post = http_->post("/metrics", "");
  EXPECT_EQ(post.status, 405);
  EXPECT_NE(post.body.find("\"method_not_allowed\""), std::string::npos) << post.body;
}

TEST_P(MetricsHttpTest, EachRequestMovesItsDecisionCodeAndCacheSeries) {
  const auto owner = login();
  auto [id, key] = create(owner);
  const std::string forged = generate_key(Botan::system_rng());  // valid checksum, stored nowhere
  std::string bad_checksum = key;
  bad_checksum[20] = bad_checksum[20] == 'A' ? 'B' : 'A';

  const std::vector<std::string> series = {
      decisions("allowed"), decisions("missing_api_key"), decisions("invalid_api_key"),
      decisions("api_key_in_query_not_allowed"), decisions("revoked_api_key"),
      cache("keys", "hit"), cache("keys", "miss"), cache("misses", "hit"), cache("misses", "miss"),
      lookups("found"), lookups("unknown"), lookups("unavailable")};
  using Moves = std::map<std::string, double>;
  auto only = [&](Moves want) {  // every other series in `series` stayed where it was
    for (const auto& s : series) want.emplace(s, 0.0);
    return want;
  };

  EXPECT_EQ(moved(series, [&] { EXPECT_EQ(http_->get("/api/v1/patients").status, 401); }),
            only({{decisions("missing_api_key"), 1}}));
  EXPECT_EQ(moved(series, [&] { EXPECT_EQ(api(key, "/api/v1/patients?api_key=x").status, 401); }),
            only({{decisions("api_key_in_query_not_allowed"), 1}}));
  // A bad checksum misses the key cache and is refused before the miss cache or the database.
  EXPECT_EQ(moved(series, [&] { EXPECT_EQ(api(bad_checksum).status, 401); }),
            only({{decisions("invalid_api_key"), 1}, {cache("keys", "miss"), 1}}));
  // A well-formed unknown key: the database says so once, the miss cache the second time.
  EXPECT_EQ(moved(series, [&] { EXPECT_EQ(api(forged).status, 401); }),
            only({{decisions("invalid_api_key"), 1}, {cache("keys", "miss"), 1},
                  {cache("misses", "miss"), 1}, {lookups("unknown"), 1}}));
  EXPECT_EQ(moved(series, [&] { EXPECT_EQ(api(forged).status, 401); }),
            only({{decisions("invalid_api_key"), 1}, {cache("keys", "miss"), 1},
                  {cache("misses", "hit"), 1}}));
  // A new key is loaded once, then served from the cache.
  EXPECT_EQ(moved(series, [&] { for (int i = 0; i < 3; ++i) EXPECT_EQ(api(key).status, 200); }),
            only({{decisions("allowed"), 3}, {cache("keys", "miss"), 1}, {cache("keys", "hit"), 2},
                  {cache("misses", "miss"), 1}, {lookups("found"), 1}}));

  auto rev = http_->post(std::string(kKeys) + "/" + std::to_string(id) + "/revoke", "",
                         owner.headers(true));
  ASSERT_EQ(rev.status, 200) << rev.body;
  EXPECT_EQ(moved(series, [&] { EXPECT_EQ(api(key).status, 401); }),
            only({{decisions("revoked_api_key"), 1}, {cache("keys", "hit"), 1}}));

  // Nothing in the exposition names the key, its preview or the clinic.
  const std::string text = scrape();
  EXPECT_EQ(text.find(key), std::string::npos);
  EXPECT_EQ(text.find(key.substr(key.size() - 4)), std::string::npos) << "the preview's characters";
  EXPECT_EQ(text.find("Bright Smiles"), std::string::npos);
}

TEST_P(MetricsHttpTest, AnAddressThrottledForInvalidKeysMovesTheThrottledSeries) {
  const std::string throttled = "mdp_api_access_throttled_total{reason=\"failed_attempts\"}";
  const std::string before = scrape();
  int refused_429 = 0;
  // The failure throttle lets about 20 invalid keys through per address (test clock: no drain).
  for (int i = 0; i < 30; ++i)
    if (api(generate_key(Botan::system_rng())).status == 429) ++refused_429;
  ASSERT_GT(refused_429, 0) << "the address was never throttled";
  const std::string after = scrape();
  auto delta = [&](const std::string& s) {
    return mdp::test::value_or_zero(after, s) - mdp::test::value_or_zero(before, s);
  };
  EXPECT_EQ(delta(throttled), refused_429);
  EXPECT_EQ(delta(decisions("too_many_failed_attempts")), refused_429);
  EXPECT_EQ(delta(decisions("invalid_api_key")), 30 - refused_429);
  EXPECT_EQ(delta("mdp_api_access_throttled_total{reason=\"rate_limit\"}"), 0);
}

TEST_P(MetricsHttpTest, AUsageFlushIsTimedAndLeavesNothingPending) {
  const auto owner = login();
  auto [id, key] = create(owner);
  for (int i = 0; i < 4; ++i) ASSERT_EQ(api(key).status, 200);
  const std::string before = scrape();
  // Reading usage writes what was counted first (a flush), so the figures are exact.
  auto r = http_->get(std::string(kKeys) + "/" + std::to_string(id) + "/usage?days=1",
                      owner.headers(false));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body).at("requests").as_int64(), 4);
  const std::string after = scrape();
  const std::string count = "mdp_api_access_usage_flush_seconds_count";
  EXPECT_GE(mdp::test::value_or_zero(after, count), 1.0) << "no flush was timed";
  EXPECT_GE(mdp::test::value_or_zero(after, count), mdp::test::value_or_zero(before, count));
  EXPECT_EQ(mdp::test::sample(after, "mdp_api_access_usage_flush_failures_total"), 0.0);
  EXPECT_EQ(mdp::test::sample(after, "mdp_api_access_usage_pending_requests"), 0.0);
  EXPECT_EQ(mdp::test::sample(after, "mdp_api_access_usage_pending_key_days"), 0.0);
}

// One process: its own revocation also arrives through the change feed (the fallback read,
// about every second), and the lag it records can be no longer than the test waited for it.
TEST_P(MetricsHttpTest, ARevocationReadFromTheChangeFeedMovesTheLagHistogram) {
  const auto owner = login();
  auto [id, key] = create(owner);
  ASSERT_EQ(api(key).status, 200);
  const std::string before = scrape();
  const auto sent = std::chrono::steady_clock::now();
  auto rev = http_->post(std::string(kKeys) + "/" + std::to_string(id) + "/revoke", "",
                         owner.headers(true));
  ASSERT_EQ(rev.status, 200) << rev.body;
  std::string after;
  const auto deadline = sent + 10s;
  do {
    std::this_thread::sleep_for(20ms);
    after = scrape();
  } while (mdp::test::value_or_zero(after, kLagCount) == mdp::test::value_or_zero(before, kLagCount) &&
           std::chrono::steady_clock::now() < deadline);
  const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - sent).count();
  EXPECT_EQ(mdp::test::value_or_zero(after, kLagCount) - mdp::test::value_or_zero(before, kLagCount), 1.0)
      << "one change, read once";
  const double lag = mdp::test::value_or_zero(after, kLagSum) - mdp::test::value_or_zero(before, kLagSum);
  EXPECT_GE(lag, 0.0);
  EXPECT_LE(lag, waited + 0.05) << "a lag longer than the time since the revoke was sent";
}

INSTANTIATE_TEST_SUITE_P(Dialects, MetricsHttpTest, ::testing::Values("SQLite", "PostgreSQL"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace mdp::api_access::http_test
