// A change made on one host is refused by the others: three devhosts on one PostgreSQL, the
// change made through host A's admin routes, the refusal asked of hosts B and C, which hold the
// key (or the clinic's plan) in their caches from an earlier request.
//
// The hosts run with the plugin's fallback poll stretched to a minute (change_poll_ms), so the
// 2 s deadline below can only be met by the push path (PostgreSQL NOTIFY): a host that misses
// the push fails the test instead of passing late through the poll. The offline grace is
// stretched too, so that a minute without a poll never reads as "out of touch with the
// database". The devhost's plan feed has no such setting (it also polls about every second):
// for plan changes the deadline proves that the change arrives (before, it never did), and
// bench/cluster_bench (plan) measures how fast.
#include <gtest/gtest.h>

#include <chrono>
#include <iostream>
#include <string>

#include "support/devhost_cluster.hpp"
#include "support/metrics_text.hpp"

namespace mdp::test {
namespace {

using namespace std::chrono_literals;

// Propagation is pushed within milliseconds; 2 s leaves room for a loaded CI machine while
// staying far below the poll interval these hosts run with.
constexpr auto kPropagation = 2000ms;

const std::vector<std::string> kPushOnly = {
    "--plugin-setting", "api-access.change_poll_ms=60000",
    "--plugin-setting", "api-access.offline_grace_seconds=600"};

class Propagation : public ::testing::Test {
 protected:
  Propagation() : cluster_(3, kPushOnly) {
    for (std::size_t i = 0; i < cluster_.size(); ++i)
      clients_.push_back(std::make_unique<HttpClient>("127.0.0.1", cluster_.host(i).port(), true));
  }

  void TearDown() override {
    if (HasFailure()) std::cerr << cluster_.logs();
  }

  HttpClient& client(std::size_t i) { return *clients_.at(i); }
  // Host i's GET /metrics.
  std::string scrape(std::size_t i) {
    HttpResult r = client(i).get("/metrics");
    EXPECT_EQ(r.status, 200) << "host " << i << ": " << r.body;
    return r.body;
  }

  // Polls host `i` with `key` until it answers `status` + `code`, at most kPropagation.
  ::testing::AssertionResult refused_by(std::size_t i, const std::string& key, int status,
                                        const std::string& code) {
    HttpResult last;
    bool ok = poll_until(kPropagation, [&] {
      last = call_api(client(i), key);
      return last.status == status && error_code(last) == code;
    }, 1ms);
    if (ok) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure()
           << "host " << i << " still answers " << describe(last) << " " << kPropagation.count()
           << " ms after the change (wanted HTTP " << status << " " << code << ")";
  }

  ::testing::AssertionResult accepted_by(std::size_t i, const std::string& key) {
    HttpResult r = call_api(client(i), key);
    if (r.status == 200) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "host " << i << " answers " << describe(r) << " "
                                         << r.body;
  }

  DevhostCluster cluster_;
  std::vector<std::unique_ptr<HttpClient>> clients_;
};

TEST_F(Propagation, RevokeOnOneHostIsRefusedByTheOthers) {
  AdminSession a(cluster_.host(0).port(), "owner@brightsmiles.test");
  const ApiKey key = a.create_key("Revoked elsewhere");
  for (std::size_t i = 0; i < 3; ++i) ASSERT_TRUE(accepted_by(i, key.secret));  // cached everywhere

  std::vector<std::string> before;
  for (std::size_t i = 0; i < 3; ++i) before.push_back(scrape(i));
  const auto sent = std::chrono::steady_clock::now();
  a.revoke(key.id);
  EXPECT_TRUE(refused_by(0, key.secret, 401, "revoked_api_key"));
  EXPECT_TRUE(refused_by(1, key.secret, 401, "revoked_api_key"));
  EXPECT_TRUE(refused_by(2, key.secret, 401, "revoked_api_key"));
  // And it stays refused: no host falls back to an older cached answer.
  for (std::size_t i = 0; i < 3; ++i) {
    HttpResult r = call_api(client(i), key.secret);
    EXPECT_EQ(describe(r), "HTTP 401 revoked_api_key") << "host " << i;
  }

  // Every host reads the one change from the feed once (through NOTIFY: the poll is a minute
  // away; A applied its own revoke at once and hears of it like the others) and records its lag,
  // on the database's clock: at least 0, and no more than the time since the revoke was sent.
  for (std::size_t i = 0; i < 3; ++i) {
    const char* count = "mdp_api_access_change_lag_seconds_count";
    std::string after;
    poll_until(kPropagation, [&] {
      after = scrape(i);
      return value_or_zero(after, count) != value_or_zero(before[i], count);
    });
    const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - sent).count();
    const auto moved = [&](const char* s) { return value_or_zero(after, s) - value_or_zero(before[i], s); };
    EXPECT_EQ(moved(count), 1.0) << "host " << i;
    EXPECT_GE(moved("mdp_api_access_change_lag_seconds_sum"), 0.0) << "host " << i;
    EXPECT_LE(moved("mdp_api_access_change_lag_seconds_sum"), waited + 0.05) << "host " << i;
    EXPECT_EQ(moved("mdp_api_access_decisions_total{code=\"revoked_api_key\"}"), 2.0) << "host " << i;
  }
}

TEST_F(Propagation, RotationGraceEndIsRefusedByTheOthers) {
  AdminSession a(cluster_.host(0).port(), "owner@brightsmiles.test");
  const ApiKey old_key = a.create_key("Rotated elsewhere");
  for (std::size_t i = 0; i < 3; ++i) ASSERT_TRUE(accepted_by(i, old_key.secret));

  // The rotation gives the old key an expiry 60 s from now (host A's clock); B and C cached it
  // with none. Within the grace every host still takes both keys.
  const ApiKey new_key = a.rotate(old_key.id, 60);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_TRUE(accepted_by(i, old_key.secret)) << "within the grace";
    EXPECT_TRUE(accepted_by(i, new_key.secret));
  }

  // Every host's clock moves past the grace: only a host that heard of the new expiry refuses.
  for (std::size_t i = 0; i < 3; ++i) {
    HttpClient c("127.0.0.1", cluster_.host(i).port());
    HttpResult r = c.post("/__test/clock", R"({"advance_seconds":65})");
    ASSERT_EQ(r.status, 200) << r.body;
  }
  EXPECT_TRUE(refused_by(0, old_key.secret, 401, "expired_api_key"));
  EXPECT_TRUE(refused_by(1, old_key.secret, 401, "expired_api_key"));
  EXPECT_TRUE(refused_by(2, old_key.secret, 401, "expired_api_key"));
  for (std::size_t i = 0; i < 3; ++i) EXPECT_TRUE(accepted_by(i, new_key.secret)) << "the new key";
}

// Lakeside Family Dentistry is on the professional tier with the api_access addon: cancelling
// the addon on host A takes API access away on B and C; buying it again gives it back.
TEST_F(Propagation, AddonCancellationIsRefusedByTheOthers) {
  AdminSession a(cluster_.host(0).port(), "admin@lakeside.test");
  const ApiKey key = a.create_key("Booking widget");
  for (std::size_t i = 0; i < 3; ++i) ASSERT_TRUE(accepted_by(i, key.secret));  // plan cached

  a.set_addon("api_access", false);
  EXPECT_TRUE(refused_by(0, key.secret, 403, "api_access_not_enabled"));
  EXPECT_TRUE(refused_by(1, key.secret, 403, "api_access_not_enabled"));
  EXPECT_TRUE(refused_by(2, key.secret, 403, "api_access_not_enabled"));

  a.set_addon("api_access", true);
  for (std::size_t i = 0; i < 3; ++i) {
    HttpResult last;
    EXPECT_TRUE(poll_until(kPropagation, [&] {
      last = call_api(client(i), key.secret);
      return last.status == 200;
    })) << "host " << i << " still answers " << describe(last) << " after the addon was bought again";
  }
}

}  // namespace
}  // namespace mdp::test
