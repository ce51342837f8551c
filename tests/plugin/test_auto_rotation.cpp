// Rotations that finish themselves (rotation/*): the old key is revoked once the new key has
// worked and the old one has gone unused for the chosen period, not while it is still used;
// an admin can finish or cancel it by hand; the clinic's admins are told once; with two plugin
// instances on one database exactly one revokes, and the other learns it through the change
// feed. Time is the test clock; each round is what the plugin's background thread does.
#include <chrono>
#include <set>
#include <thread>

#include <soci/soci.h>

#include "plugin_context.hpp"
#include "plugin_test_host.hpp"

namespace mdp::api_access::test {
namespace {

using namespace std::chrono_literals;
namespace json = boost::json;

class AutoRotationTest : public PluginTest {
 protected:
  // One background round after moving the clock past the check interval.
  void round(ApiAccessPlugin& p) {
    advance(61s);
    p.background_tick();
  }
  void round() { round(*plugin_); }

  struct Rotated {
    std::int64_t old_id = 0, new_id = 0;
    std::string old_secret, new_secret;
  };
  // A key used once from `address`, then rotated with `body`.
  Rotated rotate(const std::string& body = R"({"finish_automatically":true})") {
    Rotated r;
    std::tie(r.old_id, r.old_secret) = create_key("Accounting export");
    use(r.old_secret, "10.0.0.5");
    auto res = call("POST", "keys/" + std::to_string(r.old_id) + "/rotate", body);
    EXPECT_EQ(res.status, 201) << res.body;
    r.new_id = res.json.at("key").at("id").as_int64();
    r.new_secret = std::string(res.json.at("secret").as_string());
    return r;
  }
  host::ApiDecision use(const std::string& secret, const std::string& address = "192.0.2.10", int status = 200) {
    FakeApiRequest req;
    req.bearer(secret);
    req.client_address_ = address;
    return decide(req, status);
  }
  json::object key_json(std::int64_t id) {
    auto r = call("GET", "keys?status=all");
    EXPECT_EQ(r.status, 200) << r.body;
    for (const auto& k : r.json.at("keys").as_array())
      if (k.at("id").as_int64() == id) return k.as_object();
    ADD_FAILURE() << "key " << id << " not listed";
    return {};
  }
  std::string status_of(std::int64_t id) { return std::string(key_json(id).at("status").as_string()); }
  long long count(const std::string& sql) {
    std::size_t token = 0;
    soci::session* s = host_->db->borrow(5s, token);
    long long n = 0;
    *s << sql, soci::into(n);
    host_->db->give_back(token);
    return n;
  }
  std::size_t notices(const std::string& part) const {
    std::size_t n = 0;
    for (const auto& c : host_->notes.calls_log())
      if (c.key.find(part) != std::string::npos) ++n;
    return n;
  }
};

TEST_P(AutoRotationTest, RevokesTheOldKeyOnceTheNewOneWorksAndTheOldOneIsQuiet) {
  const Rotated r = rotate();
  auto state = key_json(r.old_id).at("auto_rotation");
  ASSERT_TRUE(state.is_object()) << json::serialize(state);
  EXPECT_EQ(state.at("state").as_string(), "waiting_for_new_key");
  EXPECT_EQ(state.at("quiet_seconds").as_int64(), 86400);
  EXPECT_EQ(state.at("old_key_last_used_from").as_string(), "10.0.0.5");
  EXPECT_TRUE(state.at("revoke_at").is_null());
  EXPECT_TRUE(key_json(r.new_id).at("auto_rotation").is_null());  // shown on the key that goes

  // The new key never worked: a week of silence from the old key changes nothing.
  use(r.new_secret, "10.0.0.6", 401);  // a failed request is no proof the integration switched
  for (int i = 0; i < 7; ++i) {
    advance(24h);
    round();
  }
  EXPECT_EQ(status_of(r.old_id), "active");

  use(r.new_secret, "10.0.0.6");  // switched
  round();
  // The old key has been quiet for a week already: it goes at once.
  EXPECT_EQ(status_of(r.old_id), "revoked");
  EXPECT_EQ(use(r.old_secret).status, 401);
  EXPECT_EQ(code_of(use(r.old_secret)), "revoked_api_key");
  EXPECT_TRUE(use(r.new_secret).allowed);
  const auto old_key = key_json(r.old_id);
  EXPECT_EQ(old_key.at("revoked_by").at("name").as_string(), "automatic rotation");
  EXPECT_TRUE(old_key.at("revoked_by").at("id").is_null());
  EXPECT_TRUE(old_key.at("auto_rotation").is_null());

  auto ev = call("GET", "events?key_id=" + std::to_string(r.old_id));
  bool found = false;
  for (const auto& e : ev.json.at("events").as_array())
    if (e.at("type") == "revoked" && e.at("key_id").as_int64() == r.old_id) {
      found = true;
      EXPECT_EQ(e.at("actor").at("name").as_string(), "automatic rotation");
      EXPECT_NE(std::string(e.at("detail").as_string()).find("unused for 24 hours"), std::string::npos) << e;
    }
  EXPECT_TRUE(found) << ev.body;
  EXPECT_EQ(count("SELECT COUNT(*) FROM api_access_auto_rotations WHERE state = 'revoked_automatically'"), 1);

  // The clinic's admins are told once: not again on later rounds, nor after a restart.
  round();
  round();
  restart_plugin();
  round();
  EXPECT_EQ(notices("/key/" + std::to_string(r.old_id) + "/revoked_auto"), 1u);
  const auto accepted = host_->notes.accepted();
  auto it = std::find_if(accepted.begin(), accepted.end(), [&](const host::Notification& n) {
    return n.key.find("/revoked_auto") != std::string::npos;
  });
  ASSERT_NE(it, accepted.end());
  EXPECT_EQ(it->clinic_id, kClinicA);
  EXPECT_NE(it->subject.find("revoked automatically"), std::string::npos) << it->subject;
  EXPECT_EQ(it->body.find(r.old_secret), std::string::npos);
}

TEST_P(AutoRotationTest, NotWhileTheOldKeyIsStillUsedThenAfterTheQuietPeriod) {
  const Rotated r = rotate(R"({"finish_automatically":{"quiet_seconds":7200}})");
  use(r.new_secret, "10.0.0.6");
  // A second instance of the integration still runs on the old key, every hour for a day.
  for (int i = 0; i < 24; ++i) {
    advance(59min);
    use(r.old_secret, "10.0.0.5");
    round();
    ASSERT_EQ(status_of(r.old_id), "active") << "hour " << i;
  }
  const auto state = key_json(r.old_id).at("auto_rotation");
  EXPECT_EQ(state.at("state").as_string(), "waiting_for_quiet");
  EXPECT_EQ(state.at("quiet_seconds").as_int64(), 7200);
  EXPECT_FALSE(state.at("revoke_at").is_null());
  // It stops: two hours later (and not before) the old key goes.
  advance(1h);
  round();
  EXPECT_EQ(status_of(r.old_id), "active");
  advance(57min);
  round();
  EXPECT_EQ(status_of(r.old_id), "revoked");
}

TEST_P(AutoRotationTest, AnAdminCancelsAndTheOldKeyStays) {
  const Rotated r = rotate();
  const std::string id = std::to_string(r.old_id);
  auto c = call("POST", "keys/" + id + "/rotation/cancel");
  ASSERT_EQ(c.status, 200) << c.body;
  EXPECT_EQ(c.json.at("key").at("status").as_string(), "active");
  use(r.new_secret);
  advance(24h * 3);
  round();
  EXPECT_EQ(status_of(r.old_id), "active");
  EXPECT_TRUE(key_json(r.old_id).at("auto_rotation").is_null());
  EXPECT_EQ(call("POST", "keys/" + id + "/rotation/cancel").error_code(), "rotation_not_waiting");
  EXPECT_EQ(call("POST", "keys/" + id + "/rotation/finish").status, 409);
  auto ev = call("GET", "events?key_id=" + id);
  bool said = false;
  for (const auto& e : ev.json.at("events").as_array())
    said = said || (e.at("type") == "updated" &&
                    std::string(e.at("detail").as_string()).find("cancelled") != std::string::npos &&
                    e.at("actor").at("name") == "Olivia Hart");
  EXPECT_TRUE(said) << ev.body;
  EXPECT_EQ(notices("/revoked_auto"), 0u);
}

TEST_P(AutoRotationTest, AnAdminFinishesByHand) {
  const Rotated r = rotate();
  const std::string id = std::to_string(r.old_id);
  EXPECT_EQ(call("POST", "keys/" + id + "/rotation/finish", "", admin_b()).error_code(), "key_not_found");
  auto f = call("POST", "keys/" + id + "/rotation/finish");
  ASSERT_EQ(f.status, 200) << f.body;
  EXPECT_EQ(f.json.at("key").at("status").as_string(), "revoked");
  EXPECT_EQ(f.json.at("key").at("revoked_by").at("name").as_string(), "Olivia Hart");
  EXPECT_EQ(code_of(use(r.old_secret)), "revoked_api_key");  // at once, in this process
  EXPECT_EQ(call("POST", "keys/" + id + "/rotation/finish").error_code(), "rotation_not_waiting");
  EXPECT_EQ(count("SELECT COUNT(*) FROM api_access_auto_rotations WHERE state = 'finished'"), 1);
  round();
  EXPECT_EQ(notices("/revoked_auto"), 0u);  // the admin did it: no news for the admins
  EXPECT_EQ(call("POST", "keys/999999/rotation/finish").error_code(), "key_not_found");
}

TEST_P(AutoRotationTest, ANewKeyThatStopsWorkingLeavesTheOldKeyAlone) {
  const Rotated r = rotate();
  use(r.new_secret);
  ASSERT_EQ(call("POST", "keys/" + std::to_string(r.new_id) + "/revoke").status, 200);
  advance(24h * 2);
  round();
  EXPECT_EQ(status_of(r.old_id), "active");
  EXPECT_EQ(count("SELECT COUNT(*) FROM api_access_auto_rotations WHERE state = 'new_key_gone'"), 1);
}

TEST_P(AutoRotationTest, BadRequestsAreRefusedAndRotateNothing) {
  auto [id, secret] = create_key();
  const std::string path = "keys/" + std::to_string(id) + "/rotate";
  EXPECT_EQ(call("POST", path, R"({"finish_automatically":{"quiet_seconds":10}})").error_code(),
            "invalid_quiet_seconds");
  EXPECT_EQ(call("POST", path, R"({"finish_automatically":{"quiet_seconds":2592001}})").error_code(),
            "invalid_quiet_seconds");
  EXPECT_EQ(call("POST", path, R"({"finish_automatically":{"quiet_seconds":"1h"}})").error_code(),
            "invalid_quiet_seconds");
  EXPECT_EQ(call("POST", path, R"({"finish_automatically":{"after":60}})").error_code(), "unknown_field");
  EXPECT_EQ(call("POST", path, R"({"finish_automatically":"yes"})").error_code(), "invalid_json");
  EXPECT_EQ(count("SELECT COUNT(*) FROM api_access_keys"), 1);  // nothing was rotated
  EXPECT_EQ(count("SELECT COUNT(*) FROM api_access_auto_rotations"), 0);
}

// Two host processes on one database (each its own connection pool, clock and notification
// service): both run the check at the same moment; one revokes, with one event and one notice,
// and the other process's hook refuses the old key once its change feed brought the revocation.
TEST_P(AutoRotationTest, TwoHostProcessesRevokeExactlyOnce) {
  TestHost other_host(GetParam(), pg_, host_->sqlite_path, /*fresh=*/false);
  other_host.clock_.set(host_->clock().now());
  auto other = std::make_shared<ApiAccessPlugin>();
  TestRegistrar other_reg;
  ASSERT_TRUE(other->on_load(other_host, other_reg).ok);
  std::vector<Rotated> rotations;
  for (int i = 0; i < 3; ++i) rotations.push_back(rotate());
  auto other_decides = [&](const std::string& secret) {
    FakeApiRequest req;
    req.bearer(secret);
    host::ApiDecision d;
    other_reg.hook->on_api_request(req, d);
    other_reg.hook->on_api_response(d.token, d.allowed ? 200 : d.status);
    return d;
  };
  for (const auto& r : rotations) {
    use(r.new_secret);
    ASSERT_TRUE(other_decides(r.old_secret).allowed);  // the other process uses the old keys too
  }
  plugin_->background_tick();  // both processes' usage is written
  other->background_tick();
  advance(25h);
  other_host.clock_.set(host_->clock().now());
  std::thread t([&] { other->background_tick(); });
  plugin_->background_tick();
  t.join();
  other->background_tick();
  plugin_->background_tick();
  std::size_t notices_sent = 0;
  for (const auto* notes : {&host_->notes, &other_host.notes})
    for (const auto& c : notes->calls_log())
      if (c.key.find("/revoked_auto") != std::string::npos) ++notices_sent;
  EXPECT_EQ(notices_sent, 3u);
  for (const auto& r : rotations) {
    EXPECT_EQ(status_of(r.old_id), "revoked");
    EXPECT_EQ(count("SELECT COUNT(*) FROM api_access_events WHERE type = 'revoked' AND key_id = " +
                    std::to_string(r.old_id)),
              1);
    EXPECT_EQ(count("SELECT COUNT(*) FROM api_access_notices WHERE notice_key = 'key/" + std::to_string(r.old_id) +
                    "/revoked_auto'"),
              1);
    // The other process: refused once its change feed has the revocation (PostgreSQL wakes it
    // at once; the fallback read runs every second).
    std::string code;
    for (int i = 0; i < 60; ++i) {
      FakeApiRequest req;
      req.bearer(r.old_secret);
      host::ApiDecision d;
      other_reg.hook->on_api_request(req, d);  // no response: a refusal is not a use either way
      code = d.allowed ? "allowed" : code_of(d);
      if (code == "revoked_api_key") break;
      std::this_thread::sleep_for(50ms);
    }
    EXPECT_EQ(code, "revoked_api_key");
    EXPECT_TRUE(other_decides(r.new_secret).allowed);
  }
  EXPECT_EQ(count("SELECT COUNT(*) FROM api_access_auto_rotations WHERE state = 'revoked_automatically'"), 3);
  other->on_stop();
}

TEST(AutoRotationJudge, WaitsForTheNewKeyThenForQuiet) {
  WaitingRotation w;
  w.old_created_at = 0;
  w.quiet_seconds = 3600;
  w.old_last_used_at = 10 * kMicrosPerSecond;
  using V = AutoRotationJudgement::Verdict;
  EXPECT_EQ(judge(w, 5000 * kMicrosPerSecond).verdict, V::wait_for_new_key);
  w.new_key_successes = 1;
  EXPECT_EQ(judge(w, 3609 * kMicrosPerSecond).verdict, V::wait_for_quiet);
  EXPECT_EQ(judge(w, 3610 * kMicrosPerSecond).verdict, V::revoke);
  EXPECT_EQ(judge(w, 3610 * kMicrosPerSecond).revoke_at, 3610 * kMicrosPerSecond);
  w.new_expires_at = 100 * kMicrosPerSecond;
  EXPECT_EQ(judge(w, 3610 * kMicrosPerSecond).verdict, V::new_key_gone);
  w.old_revoked_at = 50 * kMicrosPerSecond;
  EXPECT_EQ(judge(w, 3610 * kMicrosPerSecond).verdict, V::old_key_gone);
}

INSTANTIATE_TEST_SUITE_P(Dialects, AutoRotationTest,
                         ::testing::Values(host::Dialect::sqlite, host::Dialect::postgresql), param_name);

}  // namespace
}  // namespace mdp::api_access::test
