// One rate limit across two devhosts on one PostgreSQL (auth/rate_exchange.hpp): each process
// publishes what it admitted per key about every rate_limit_sync_ms (100 ms here) and learns what
// the others admitted, so
//   - traffic that moves from one host to the other after an exchange gets exactly the limit
//     in all (no overshoot at all);
//   - steady traffic on both hosts at once overshoots by what the other host admitted during
//     the exchange lag (measured and printed; BENCHMARKS.md "Rate limit across processes");
//   - a burst faster than one exchange admits at most one limit per host (the worst case).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <boost/json.hpp>

#include "support/devhost_cluster.hpp"

namespace mdp::test {
namespace {

using namespace std::chrono_literals;
namespace json = boost::json;

constexpr auto kSync = 100ms;
// Two exchanges on each side and the database round trips, with room for a loaded machine.
constexpr auto kSettle = 1500ms;

// One cluster for the suite (starting one takes seconds); every test uses its own key.
class ClusterRateLimit : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    cluster_ = std::make_unique<DevhostCluster>(
        2, std::vector<std::string>{"--plugin-setting",
                                    "api-access.rate_limit_sync_ms=" + std::to_string(kSync.count())});
    for (std::size_t i = 0; i < cluster_->size(); ++i) {
      HttpClient c("127.0.0.1", cluster_->host(i).port());
      // Both hosts' test clocks at the start of one window (windows are aligned to the epoch).
      HttpResult r = c.post("/__test/clock", R"({"set":"2026-12-01T10:00:00Z"})");
      EXPECT_EQ(r.status, 200) << r.body;
    }
  }
  static void TearDownTestSuite() { cluster_.reset(); }
  void TearDown() override {
    if (HasFailure()) std::cerr << cluster_->logs();
  }

  ApiKey create(AdminSession& admin, int requests, int per_seconds) {
    json::object body{{"label", "limited"},
                      {"rate_limit", json::object{{"requests", requests}, {"per_seconds", per_seconds}}}};
    HttpResult r = admin.post("/plugins/api-access/keys", json::serialize(body));
    if (r.status != 201) throw std::runtime_error("create: " + describe(r) + " " + r.body);
    json::value v = json::parse(r.body);
    return {v.at("key").at("id").as_int64(), std::string(v.at("secret").as_string())};
  }

  // Sends up to `max` requests with `key` to host `i`; returns how many were admitted (200)
  // before the first 429, and checks that nothing else came back.
  int admitted_until_refused(std::size_t i, const std::string& key, int max) {
    HttpClient c("127.0.0.1", cluster_->host(i).port(), true);
    for (int n = 0; n < max; ++n) {
      HttpResult r = call_api(c, key);
      if (r.status == 429) {
        EXPECT_EQ(error_code(r), "rate_limited");
        return n;
      }
      EXPECT_EQ(r.status, 200) << describe(r);
      if (r.status != 200) return n;
    }
    return max;
  }

  static std::unique_ptr<DevhostCluster> cluster_;
};
std::unique_ptr<DevhostCluster> ClusterRateLimit::cluster_;

TEST_F(ClusterRateLimit, TrafficMovingToAnotherHostGetsExactlyTheRest) {
  AdminSession a(cluster_->host(0).port(), "owner@brightsmiles.test");
  const ApiKey key = create(a, 50, 3600);
  EXPECT_EQ(admitted_until_refused(0, key.secret, 30), 30);
  std::this_thread::sleep_for(kSettle);
  EXPECT_EQ(admitted_until_refused(1, key.secret, 50), 20) << "host B admitted more than the limit left";
  std::this_thread::sleep_for(kSettle);
  HttpClient c("127.0.0.1", cluster_->host(0).port());
  HttpResult r = call_api(c, key.secret);
  EXPECT_EQ(r.status, 429) << "host A did not hear of host B's 20: " << describe(r);
  EXPECT_EQ(r.header("RateLimit"), "\"per-key\";r=0;t=3600");
}

// Steady traffic on both hosts at once, each at about kRate requests a second: the overshoot is
// what the other host admitted before the exchange told each one, bounded by (README) the
// other's rate x the exchange lag (two intervals, plus the database and the scheduler: 300 ms
// of slack on a loaded machine).
TEST_F(ClusterRateLimit, SteadyTrafficOnBothHostsOvershootsByAtMostTheExchangeLag) {
  AdminSession a(cluster_->host(0).port(), "owner@brightsmiles.test");
  constexpr int kLimit = 100, kRate = 100, kPerHost = 200;
  const ApiKey key = create(a, kLimit, 3600);
  std::atomic<int> admitted[2] = {0, 0};
  double rate[2] = {0, 0};
  std::vector<std::thread> threads;
  for (std::size_t host = 0; host < 2; ++host)
    threads.emplace_back([&, host] {
      HttpClient c("127.0.0.1", cluster_->host(host).port(), true);
      const auto start = std::chrono::steady_clock::now();
      for (int i = 0; i < kPerHost; ++i) {
        std::this_thread::sleep_until(start + i * std::chrono::microseconds(1'000'000 / kRate));
        HttpResult r = call_api(c, key.secret);
        if (r.status == 200) admitted[host].fetch_add(1);
        else if (r.status != 429) ADD_FAILURE() << "host " << host << ": " << describe(r);
      }
      rate[host] = kPerHost / std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    });
  for (auto& t : threads) t.join();
  const int total = admitted[0] + admitted[1];
  const double lag = 2 * std::chrono::duration<double>(kSync).count() + 0.3;
  const double bound = (rate[0] + rate[1]) * lag;
  std::cout << "[ cluster rate limit ] limit " << kLimit << ", 2 hosts at " << static_cast<int>(rate[0]) << " and "
            << static_cast<int>(rate[1]) << " requests/s, sync every " << kSync.count() << " ms: admitted "
            << admitted[0] << " + " << admitted[1] << " = " << total << ", overshoot " << total - kLimit
            << " (bound " << static_cast<int>(bound) << ")" << std::endl;
  EXPECT_GE(total, kLimit);
  EXPECT_LE(total - kLimit, bound);
  EXPECT_LE(total, 2 * kLimit);
  // Once the hosts have exchanged their counts, both refuse.
  std::this_thread::sleep_for(kSettle);
  for (std::size_t host = 0; host < 2; ++host) {
    HttpClient c("127.0.0.1", cluster_->host(host).port());
    EXPECT_EQ(call_api(c, key.secret).status, 429) << "host " << host;
  }
}

// A burst on both hosts faster than one exchange: the worst case, one limit per host at most.
TEST_F(ClusterRateLimit, ABurstFasterThanTheExchangeAdmitsAtMostOneLimitPerHost) {
  AdminSession a(cluster_->host(0).port(), "owner@brightsmiles.test");
  constexpr int kLimit = 200, kPerThread = 150, kThreadsPerHost = 2;
  const ApiKey key = create(a, kLimit, 3600);
  std::atomic<int> admitted[2] = {0, 0};
  std::vector<std::thread> threads;
  const auto started = std::chrono::steady_clock::now();
  for (std::size_t host = 0; host < 2; ++host)
    for (int t = 0; t < kThreadsPerHost; ++t)
      threads.emplace_back([&, host] {
        HttpClient c("127.0.0.1", cluster_->host(host).port(), true);
        for (int i = 0; i < kPerThread; ++i) {
          HttpResult r = call_api(c, key.secret);
          if (r.status == 200) admitted[host].fetch_add(1);
          else if (r.status != 429) ADD_FAILURE() << "host " << host << ": " << describe(r);
        }
      });
  for (auto& t : threads) t.join();
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  const int total = admitted[0] + admitted[1];
  std::cout << "[ cluster rate limit ] limit " << kLimit << ", " << 2 * kThreadsPerHost * kPerThread
            << " requests on 2 hosts in " << took.count() << " ms: admitted " << admitted[0] << " + "
            << admitted[1] << " = " << total << " (overshoot " << total - kLimit << ", sync every "
            << kSync.count() << " ms)" << std::endl;
  EXPECT_GE(total, kLimit);
  EXPECT_LE(admitted[0].load(), kLimit);
  EXPECT_LE(admitted[1].load(), kLimit);
}

}  // namespace
}  // namespace mdp::test
