// PostgreSQL stops and starts again under three devhosts while clients use the public API.
// What must hold (the devhost README and the plugin's settings document each answer):
//   - during the outage nothing answers 500, and a logged-in admin is never answered 401: a
//     request that needs the database answers 503 with Retry-After; a key already in a host's
//     cache keeps working for the offline grace (30 s by default, far longer than the outage);
//   - once the server is back, every host serves login, a page, an admin route and the public
//     API again without a restart, and its change feed works again (a revocation reaches all);
//   - usage is exact: every answer a host gave to a known key is stored once, no more, no less.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <iostream>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "support/devhost_cluster.hpp"

namespace mdp::test {
namespace {

using namespace std::chrono_literals;

// How long each host gets after `pg_ctl start` returns to serve everything normally again.
// The pool retries a dead connection about every second; 5 s covers a few retries with backoff
// on a busy CI machine, while a host that never heals (the failure this guards) fails it.
constexpr auto kRecovery = 5000ms;
constexpr auto kPropagation = 2000ms;
constexpr auto kOutage = 2500ms;
const std::string kPage = "/settings/integrations/api-keys";
const std::string kAdminRoute = "/plugins/api-access/keys";

// One client thread per host: the public API with one key, as fast as the host answers (with a
// 2 ms pause, so three clients leave the 2-core machine's PostgreSQL room to restart).
class Traffic {
 public:
  Traffic(unsigned short port, std::string key) : port_(port), key_(std::move(key)) {
    thread_ = std::thread([this] { run(); });
  }
  ~Traffic() { stop(); }

  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  long long answered() const { return answered_.load(); }
  long long ok() const { return ok_.load(); }
  // Answers outside "200, or 503 with Retry-After": each described once with its count.
  std::map<std::string, long long> violations() const {
    std::lock_guard lock(mutex_);
    return violations_;
  }
  long long unavailable() const { return unavailable_.load(); }

 private:
  void run() {
    HttpClient client("127.0.0.1", port_, true);
    while (!stop_) {
      try {
        HttpResult r = call_api(client, key_, "/api/v1/ping");
        ++answered_;
        if (r.status == 200) {
          ++ok_;
        } else if (r.status == 503 && !r.header("Retry-After").empty()) {
          ++unavailable_;
        } else {
          std::lock_guard lock(mutex_);
          ++violations_[describe(r) + (r.status == 503 ? " without Retry-After" : "")];
        }
      } catch (const std::exception& e) {
        // No answer: the host closed or dropped the connection. It may have counted the
        // request, so the usage check could not be exact: a violation in itself.
        std::lock_guard lock(mutex_);
        ++violations_[std::string("no answer: ") + e.what()];
      }
      std::this_thread::sleep_for(2ms);
    }
  }

  unsigned short port_;
  std::string key_;
  std::atomic<bool> stop_{false};
  std::atomic<long long> answered_{0}, ok_{0}, unavailable_{0};
  mutable std::mutex mutex_;
  std::map<std::string, long long> violations_;
  std::thread thread_;
};

// Prints the hosts' recent log lines once, at the end of a test that failed.
struct LogsOnFailure {
  const DevhostCluster& cluster;
  ~LogsOnFailure() {
    if (::testing::Test::HasFailure()) std::cerr << cluster.logs();
  }
};

// The answer of a request that needs the database while it is down.
::testing::AssertionResult unavailable_answer(const HttpResult& r, const std::string& what) {
  if (r.status == 503 && !r.header("Retry-After").empty()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << what << " during the outage: " << describe(r)
                                       << (r.status == 503 ? " without Retry-After" : "") << " "
                                       << r.body.substr(0, 300);
}

TEST(Outage, EveryHostRecoversWithoutRestartAndKeepsEveryCount) {
  // Traffic as fast as the hosts answer: a plan limit far above it, so every answer counts.
  DevhostCluster cluster(3, {"--plugin-setting", "api-access.rate_limit_tier=1000000/1",
                              "--plugin-setting", "api-access.rate_limit_addon=1000000/1"});
  LogsOnFailure logs_on_failure{cluster};
  const std::size_t n = cluster.size();
  std::vector<std::unique_ptr<AdminSession>> admins;
  for (std::size_t i = 0; i < n; ++i)
    admins.push_back(std::make_unique<AdminSession>(cluster.host(i).port(), "owner@brightsmiles.test"));

  // One key per host, so each host's answers can be compared with what was stored for its key,
  // and one key no host has seen (not in any cache: it needs the database).
  std::vector<ApiKey> keys;
  for (std::size_t i = 0; i < n; ++i) keys.push_back(admins[0]->create_key("Traffic " + std::to_string(i)));
  const ApiKey unseen = admins[0]->create_key("Never used before the outage");

  std::vector<std::unique_ptr<Traffic>> traffic;
  for (std::size_t i = 0; i < n; ++i)
    traffic.push_back(std::make_unique<Traffic>(cluster.host(i).port(), keys[i].secret));
  ASSERT_TRUE(poll_until(10s, [&] {
    for (auto& t : traffic)
      if (t->ok() < 20) return false;
    return true;
  })) << "traffic did not start";

  // --- the outage -------------------------------------------------------------------------
  const auto outage_start = std::chrono::steady_clock::now();
  cluster.pg().stop();
  for (std::size_t i = 0; i < n; ++i) {
    SCOPED_TRACE("host " + std::to_string(i));
    HttpClient c("127.0.0.1", cluster.host(i).port());
    EXPECT_TRUE(unavailable_answer(admins[i]->get(kAdminRoute), "GET " + kAdminRoute));
    EXPECT_EQ(error_code(admins[i]->get(kAdminRoute)), "database_unavailable");
    EXPECT_TRUE(unavailable_answer(admins[i]->get(kPage), "GET " + kPage));
    EXPECT_TRUE(unavailable_answer(
        c.post("/login", R"({"email":"owner@brightsmiles.test","password":"devpass"})"),
        "POST /login"));
    HttpResult api = call_api(c, unseen.secret, "/api/v1/ping");
    EXPECT_TRUE(unavailable_answer(api, "a key not in the cache"));
    EXPECT_EQ(error_code(api), "service_unavailable");
    // The logged-in admin is not logged out by the outage.
    HttpResult session = admins[i]->get("/session");
    EXPECT_NE(session.status, 401) << session.body;
    EXPECT_NE(session.status, 500) << session.body;
  }
  std::this_thread::sleep_until(outage_start + kOutage);

  // --- recovery ---------------------------------------------------------------------------
  cluster.pg().start();
  std::vector<long long> recovery_api_answers(n, 0);
  for (std::size_t i = 0; i < n; ++i) {
    SCOPED_TRACE("host " + std::to_string(i));
    HttpClient c("127.0.0.1", cluster.host(i).port());
    std::string last;
    const bool recovered = poll_until(kRecovery, [&] {
      if (auto s = login(c, "owner@brightsmiles.test"); !s) {
        last = "login refused";
        return false;
      }
      HttpResult page = admins[i]->get(kPage);
      if (page.status != 200) {
        last = "page: " + describe(page);
        return false;
      }
      HttpResult route = admins[i]->get(kAdminRoute);  // the session from before the outage
      if (route.status != 200) {
        last = "admin route: " + describe(route);
        return false;
      }
      HttpResult api = call_api(c, keys[i].secret, "/api/v1/patients");
      ++recovery_api_answers[i];  // an answer to a known key: counted by the plugin
      if (api.status != 200) {
        last = "public API: " + describe(api);
        return false;
      }
      return true;
    }, 20ms);
    EXPECT_TRUE(recovered) << "not recovered " << kRecovery.count() << " ms after pg_ctl start: "
                           << last;
  }

  for (auto& t : traffic) t->stop();
  for (std::size_t i = 0; i < n; ++i) {
    SCOPED_TRACE("host " + std::to_string(i));
    EXPECT_TRUE(traffic[i]->violations().empty()) << [&] {
      std::string s;
      for (const auto& [what, count] : traffic[i]->violations()) s += what + " x" + std::to_string(count) + "\n";
      return s;
    }();
    // A cached key works through a 2.5 s outage (the offline grace is 30 s by default).
    EXPECT_EQ(traffic[i]->unavailable(), 0) << "a cached key was refused during the outage";
  }

  // --- usage: every answer to a known key stored exactly once ------------------------------
  for (std::size_t i = 0; i < n; ++i) {
    SCOPED_TRACE("host " + std::to_string(i));
    const long long sent = traffic[i]->answered() + recovery_api_answers[i];
    long long stored = -1;
    // Host i alone used key i; its usage route first writes what it still holds. A write that
    // was in flight may land a moment later, so poll: but more than was sent is never right.
    std::string error;
    poll_until(3s, [&] {
      try {
        stored = admins[i]->usage_requests(keys[i].id);
      } catch (const std::exception& e) {
        error = e.what();
        return false;
      }
      return stored >= sent;
    }, 50ms);
    EXPECT_NE(stored, -1) << "usage could not be read: " << error;
    EXPECT_EQ(stored, sent) << "requests answered by host " << i << " vs stored for its key\n"
                           ;
  }

  // --- a revocation after the restart reaches every host ----------------------------------
  {
    HttpClient c0("127.0.0.1", cluster.host(0).port(), true);
    HttpClient c2("127.0.0.1", cluster.host(2).port(), true);
    ASSERT_EQ(call_api(c0, keys[1].secret).status, 200);  // cached on hosts 0 and 2 as well
    ASSERT_EQ(call_api(c2, keys[1].secret).status, 200);
  }
  admins[0]->revoke(keys[1].id);
  for (std::size_t i = 0; i < n; ++i) {
    HttpClient c("127.0.0.1", cluster.host(i).port(), true);
    HttpResult last;
    EXPECT_TRUE(poll_until(kPropagation, [&] {
      last = call_api(c, keys[1].secret);
      return describe(last) == "HTTP 401 revoked_api_key";
    }, 1ms)) << "host " << i << " still answers " << describe(last);
  }
}

// Past the offline grace a cached key is no longer trusted (a revocation made meanwhile could
// not have been heard): 503 with Retry-After, and back to 200 once the database returns.
TEST(Outage, CachedKeysAnswer503AfterTheOfflineGrace) {
  DevhostCluster cluster(1, {"--plugin-setting", "api-access.offline_grace_seconds=1",
                              "--plugin-setting", "api-access.change_poll_ms=100"});
  LogsOnFailure logs_on_failure{cluster};
  AdminSession a(cluster.host(0).port(), "owner@brightsmiles.test");
  const ApiKey key = a.create_key("Offline grace");
  HttpClient c("127.0.0.1", cluster.host(0).port(), true);
  ASSERT_EQ(call_api(c, key.secret).status, 200);

  cluster.pg().stop();
  HttpResult last;
  std::map<std::string, int> seen;
  EXPECT_TRUE(poll_until(5s, [&] {
    last = call_api(c, key.secret);
    ++seen[describe(last)];
    return last.status == 503;
  }, 20ms)) << "the cached key still answers " << describe(last) << " 5 s into the outage";
  EXPECT_TRUE(unavailable_answer(last, "a cached key past the offline grace"));
  EXPECT_EQ(error_code(last), "service_unavailable");
  for (const auto& [what, count] : seen)
    EXPECT_TRUE(what == "HTTP 200" || what == "HTTP 503 service_unavailable") << what << " x" << count;

  cluster.pg().start();
  EXPECT_TRUE(poll_until(kRecovery, [&] {
    last = call_api(c, key.secret);
    return last.status == 200;
  }, 20ms)) << "still " << describe(last) << " after the database came back";
}

// The database server stays up but every connection to it is cut (a failover, a proxy restart,
// an operator's pg_terminate_backend): the hosts reconnect their listeners by themselves, and a
// revocation and a plan change made meanwhile are not lost.
TEST(Outage, ChangesMadeWhileListenersReconnectAreNotLost) {
  DevhostCluster cluster(3);
  LogsOnFailure logs_on_failure{cluster};
  AdminSession bright(cluster.host(0).port(), "owner@brightsmiles.test");
  AdminSession lakeside(cluster.host(0).port(), "admin@lakeside.test");
  const ApiKey revoked = bright.create_key("Revoked while connections were cut");
  const ApiKey unplanned = lakeside.create_key("Plan cancelled while connections were cut");
  std::vector<std::unique_ptr<HttpClient>> clients;
  for (std::size_t i = 0; i < cluster.size(); ++i) {
    clients.push_back(std::make_unique<HttpClient>("127.0.0.1", cluster.host(i).port(), true));
    ASSERT_EQ(call_api(*clients[i], revoked.secret).status, 200);  // cached on every host
    ASSERT_EQ(call_api(*clients[i], unplanned.secret).status, 200);
  }

  cluster.pg().execute(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
      "WHERE pid <> pg_backend_pid() AND datname = current_database()");
  // Each change may meet a dead pooled connection first (503, Retry-After), then a healed one.
  HttpResult answer;
  ASSERT_TRUE(poll_until(kRecovery, [&] {
    answer = bright.post("/plugins/api-access/keys/" + std::to_string(revoked.id) + "/revoke");
    return answer.status == 200;
  }, 20ms)) << "revoke: " << describe(answer);
  ASSERT_TRUE(poll_until(kRecovery, [&] {
    answer = lakeside.del("/billing/addons/api_access");
    return answer.status / 100 == 2;
  }, 20ms)) << "cancel addon: " << describe(answer);

  for (std::size_t i = 0; i < cluster.size(); ++i) {
    HttpResult last;
    // Reconnection with backoff, then the read from the recorded position (or the fallback
    // poll, about every second).
    EXPECT_TRUE(poll_until(kRecovery, [&] {
      last = call_api(*clients[i], revoked.secret);
      return describe(last) == "HTTP 401 revoked_api_key";
    }, 5ms)) << "host " << i << " still answers " << describe(last) << " for the revoked key";
    EXPECT_TRUE(poll_until(kRecovery, [&] {
      last = call_api(*clients[i], unplanned.secret);
      return describe(last) == "HTTP 403 api_access_not_enabled";
    }, 5ms)) << "host " << i << " still answers " << describe(last) << " for the cancelled plan";
  }
}

}  // namespace
}  // namespace mdp::test
