// Leaked-key reports (routes/leak_reports.*) on their failure paths: a database outage answers
// 503 with Retry-After and revokes nothing, so the reporter's retry does it; and a revocation by
// report reaches a second host process on the same database through its change feed.
#include <chrono>
#include <thread>

#include "plugin_test_host.hpp"

namespace mdp::api_access::test {
namespace {

using namespace std::chrono_literals;

class LeakReportTest : public PluginTest {
 protected:
  // The public route, called as the host does for anyone (no user, no session).
  RouteResult report(const std::string& secret) {
    host::RouteRequest req;
    req.method = "POST";
    req.path = "leaked-keys";
    req.body = R"([{"token":")" + secret + R"(","url":"https://example.com/paste/1"}])";
    for (const auto& route : reg_->routes) {
      if (route.method != "POST" || route.pattern != "leaked-keys") continue;
      EXPECT_EQ(route.permission, host::kPublicPermission);
      const host::Response resp = route.handler(req);
      RouteResult out;
      out.status = resp.status;
      out.body = resp.body;
      out.headers = resp.headers;
      EXPECT_EQ(resp.content_type, "application/json");
      boost::json::error_code ec;
      out.json = boost::json::parse(resp.body, ec);
      EXPECT_FALSE(ec) << "not JSON: " << resp.body;
      return out;
    }
    ADD_FAILURE() << "no route POST leaked-keys";
    return {};
  }
};

TEST_P(LeakReportTest, ADatabaseOutageAnswers503AndTheRetryRevokes) {
  auto [id, secret] = create_key("widget");
  ASSERT_TRUE(decide_key(secret).allowed);  // cached: it keeps working through a short outage
  host_->faults->set_down(true);
  const auto down = report(secret);
  EXPECT_EQ(down.status, 503) << down.body;
  EXPECT_EQ(down.error_code(), "database_unavailable");
  EXPECT_FALSE(down.header("Retry-After").empty());
  EXPECT_TRUE(decide_key(secret).allowed);  // nothing was revoked
  host_->faults->set_down(false);
  const auto up = report(secret);
  ASSERT_EQ(up.status, 200) << up.body;
  EXPECT_EQ(up.json.at("results").at(0).at("status"), "revoked");
  EXPECT_EQ(code_of(decide_key(secret)), "revoked_api_key");
}

TEST_P(LeakReportTest, ARevocationByReportReachesAnotherHostProcess) {
  auto [id, secret] = create_key("widget");
  TestHost other_host(GetParam(), pg_, host_->sqlite_path, /*fresh=*/false);
  other_host.clock_.set(host_->clock().now());
  auto other = std::make_shared<ApiAccessPlugin>();
  TestRegistrar other_reg;
  ASSERT_TRUE(other->on_load(other_host, other_reg).ok);
  auto other_decides = [&] {
    FakeApiRequest req;
    req.bearer(secret);
    host::ApiDecision d;
    other_reg.hook->on_api_request(req, d);
    return d;
  };
  ASSERT_TRUE(other_decides().allowed);  // the other process has the key cached

  const auto r = report(secret);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json.at("results").at(0).at("status"), "revoked");
  // PostgreSQL wakes the other process's change feed at once; SQLite's poll runs every second.
  std::string code;
  for (int i = 0; i < 60 && code != "revoked_api_key"; ++i) {
    const auto d = other_decides();
    code = d.allowed ? "allowed" : code_of(d);
    if (code != "revoked_api_key") std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(code, "revoked_api_key");
  other->on_stop();
}

INSTANTIATE_TEST_SUITE_P(Dialects, LeakReportTest,
                         ::testing::Values(host::Dialect::sqlite, host::Dialect::postgresql), param_name);

}  // namespace
}  // namespace mdp::api_access::test
