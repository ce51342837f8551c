// Every decision of the request hook (auth/request_hook.hpp), called as the host calls it.
#include <atomic>
#include <random>
#include <thread>

#include <soci/soci.h>

#include <botan/system_rng.h>

#include "keys/key_format.hpp"
#include "plugin_context.hpp"
#include "plugin_test_host.hpp"

namespace mdp::api_access::test {
namespace {

namespace json = boost::json;

class HookTest : public PluginTest {};

TEST_P(HookTest, ValidKeyIsAllowedAsItsClinic) {
  auto [id, secret] = create_key();
  for (const auto& r : {FakeApiRequest().bearer(secret), FakeApiRequest().header("authorization", "bearer " + secret),
                        FakeApiRequest().header("Authorization", "BEARER   " + secret + "  "),
                        FakeApiRequest().header("X-API-Key", secret),
                        FakeApiRequest().header("x-api-key", " " + secret),
                        FakeApiRequest().bearer(secret).header("X-API-Key", secret)}) {
    const auto d = decide(r);
    EXPECT_TRUE(d.allowed);
    EXPECT_EQ(d.clinic_id, kClinicA);
    EXPECT_NE(d.token, 0u);
    EXPECT_TRUE(d.body.empty());
  }
}

TEST_P(HookTest, MissingKeyAsksForBearer) {
  for (const auto& r : {FakeApiRequest(), FakeApiRequest().header("Authorization", "Basic dXNlcjpwYXNz"),
                        FakeApiRequest().header("Cookie", "session=abc")}) {
    const auto d = decide(r);
    EXPECT_FALSE(d.allowed);
    EXPECT_EQ(d.status, 401);
    EXPECT_EQ(code_of(d), "missing_api_key");
    EXPECT_EQ(d.www_authenticate, "Bearer");
    EXPECT_EQ(d.token, 0u);
    EXPECT_EQ(d.clinic_id, 0);
  }
}

TEST_P(HookTest, KeyInQueryIsRefusedEvenWithAHeader) {
  auto [id, secret] = create_key();
  for (const std::string& q : std::vector<std::string>{"api_key=" + secret, "page=1&key=" + secret, "q=" + secret, "token=abc",
                              "access_token=x"}) {
    FakeApiRequest r;
    r.query_ = q;
    r.bearer(secret);
    const auto d = decide(r);
    EXPECT_EQ(d.status, 401) << q;
    EXPECT_EQ(code_of(d), "api_key_in_query_not_allowed") << q;
    EXPECT_EQ(d.body.find(secret), std::string::npos);
  }
  FakeApiRequest ok;
  ok.query_ = "page=2&limit=10";
  ok.bearer(secret);
  EXPECT_TRUE(decide(ok).allowed);
}

TEST_P(HookTest, MalformedBadChecksumAndUnknownAreIndistinguishable) {
  auto [id, secret] = create_key();
  Botan::System_RNG rng;
  const std::string unknown = generate_key(rng);  // valid shape and checksum, never stored
  std::string typo = secret;
  typo[20] = typo[20] == 'A' ? 'B' : 'A';
  const std::string stored_hash = to_hex(digest_of(secret));
  std::vector<std::string> bad = {unknown, typo, secret.substr(0, 61), secret + "A", "mdp_", "hello",
                                  stored_hash, "mdp_" + stored_hash.substr(0, 58),
                                  std::string(100000, 'A'), "mdp_\xE2\x80\xA6" + secret.substr(58),
                                  std::string("mdp_\0AAAA", 9)};
  std::string reference;
  for (const auto& k : bad) {
    const auto d = decide_key(k);
    EXPECT_FALSE(d.allowed);
    EXPECT_EQ(d.status, 401);
    EXPECT_EQ(code_of(d), "invalid_api_key");
    EXPECT_TRUE(d.www_authenticate.empty());
    EXPECT_EQ(d.token, 0u);
    if (reference.empty()) reference = d.body;
    EXPECT_EQ(d.body, reference);  // byte for byte
  }
  const auto empty_bearer = decide(FakeApiRequest().header("Authorization", "Bearer"));
  EXPECT_EQ(code_of(empty_bearer), "invalid_api_key");
  EXPECT_EQ(empty_bearer.body, reference);
}

TEST_P(HookTest, BadChecksumCostsNoDatabaseQuery) {
  auto [id, secret] = create_key();
  std::string typo = secret;
  typo[30] = typo[30] == 'Q' ? 'R' : 'Q';
  // Drop the table under the hook: a query would fail (503); a checksum refusal never asks.
  {
    std::size_t token = 0;
    soci::session* s = host_->db->borrow(std::chrono::seconds(5), token);
    devhost::execute_script(*s, host_->dialect, "ALTER TABLE api_access_keys RENAME TO moved_away");
    host_->db->give_back(token);
  }
  const auto d = decide_key(typo);
  EXPECT_EQ(d.status, 401);
  EXPECT_EQ(code_of(d), "invalid_api_key");
  // The same request with a well-formed unknown key does need the database: 503, not 401.
  Botan::System_RNG rng;
  const auto d2 = decide_key(generate_key(rng));
  EXPECT_EQ(d2.status, 503);
}

TEST_P(HookTest, TwoDifferentKeysAreInvalid) {
  auto [a, sa] = create_key("a");
  auto [b, sb] = create_key("b");
  for (const auto& r : {FakeApiRequest().bearer(sa).header("X-API-Key", sb),
                        FakeApiRequest().bearer(sa).bearer(sb),
                        FakeApiRequest().header("X-API-Key", sa).header("X-API-Key", sb)}) {
    const auto d = decide(r);
    EXPECT_EQ(d.status, 401);
    EXPECT_EQ(code_of(d), "invalid_api_key");
  }
  FakeApiRequest many;
  for (int i = 0; i < 10; ++i) many.bearer(sa);
  EXPECT_EQ(code_of(decide(many)), "invalid_api_key");
}

TEST_P(HookTest, RevokedKeyIsRefusedOnTheNextRequestAndCounted) {
  auto [id, secret] = create_key();
  EXPECT_TRUE(decide_key(secret).allowed);  // now cached
  call("POST", "keys/" + std::to_string(id) + "/revoke");
  const auto d = decide_key(secret);
  EXPECT_EQ(d.status, 401);
  EXPECT_EQ(code_of(d), "revoked_api_key");
  EXPECT_NE(d.token, 0u);
  auto usage = call("GET", "keys/" + std::to_string(id) + "/usage?days=1");
  EXPECT_EQ(usage.json.at("requests"), 2);
  EXPECT_EQ(usage.json.at("days").at(0).at("client_errors"), 1);
}

TEST_P(HookTest, ExpiryIsCheckedAgainstTheHostClockOnEveryRequest) {
  auto r = call("POST", "keys", R"({"label":"x","expires_at":"2026-11-26T10:00:00Z"})");
  const std::string secret(r.json.at("secret").as_string());
  EXPECT_TRUE(decide_key(secret).allowed);
  advance(std::chrono::minutes(29));
  EXPECT_TRUE(decide_key(secret).allowed);
  advance(std::chrono::minutes(1));  // 10:00:00 exactly: expires_at <= now
  const auto d = decide_key(secret);
  EXPECT_EQ(d.status, 401);
  EXPECT_EQ(code_of(d), "expired_api_key");
  EXPECT_NE(d.token, 0u);
}

TEST_P(HookTest, PlanChangeTakesEffectOnTheNextRequestAndBack) {
  auto [id, secret] = create_key();
  EXPECT_TRUE(decide_key(secret).allowed);
  host_->subs.set(kClinicA, false);
  plugin_->on_subscription_changed(kClinicA);
  auto d = decide_key(secret);
  EXPECT_EQ(d.status, 403);
  EXPECT_EQ(code_of(d), "api_access_not_enabled");
  host_->subs.set(kClinicA, true);
  plugin_->on_subscription_changed(kClinicA);
  EXPECT_TRUE(decide_key(secret).allowed);
  // Revoked meanwhile: stays refused when access returns.
  host_->subs.set(kClinicA, false);
  plugin_->on_subscription_changed(kClinicA);
  call("POST", "keys/" + std::to_string(id) + "/revoke");
  host_->subs.set(kClinicA, true);
  plugin_->on_subscription_changed(kClinicA);
  EXPECT_EQ(code_of(decide_key(secret)), "revoked_api_key");
}

TEST_P(HookTest, PlanIsAskedOnceUntilItChanges) {
  auto [id, secret] = create_key();
  decide_key(secret);
  const int asked = host_->subs.asked();
  for (int i = 0; i < 50; ++i) decide_key(secret);
  EXPECT_EQ(host_->subs.asked(), asked);
  plugin_->on_subscription_changed(kClinicA);
  decide_key(secret);
  EXPECT_EQ(host_->subs.asked(), asked + 1);
}

TEST_P(HookTest, ScopesAreEnforcedAndWriteDoesNotImplyRead) {
  auto [w, write_only] = create_key("writer", R"(["appointments:write"])");
  auto [r, read_only] = create_key("reader", R"(["read"])");
  EXPECT_TRUE(decide_key(write_only, "appointments:write").allowed);
  auto d = decide_key(write_only, "read");
  EXPECT_EQ(d.status, 403);
  EXPECT_EQ(code_of(d), "insufficient_scope");
  EXPECT_NE(d.body.find("read"), std::string::npos);
  EXPECT_EQ(json::parse(d.body).at("error").at("scope"), "read");
  d = decide_key(read_only, "appointments:write");
  EXPECT_EQ(code_of(d), "insufficient_scope");
  EXPECT_NE(d.body.find("appointments:write"), std::string::npos);
  EXPECT_EQ(code_of(decide_key(read_only, "patients:write")), "insufficient_scope");
}

TEST_P(HookTest, EachKeyServesOnlyItsOwnClinic) {
  auto [a, sa] = create_key("a", R"(["read"])", admin_a());
  auto [b, sb] = create_key("b", R"(["read"])", admin_b());
  EXPECT_EQ(decide_key(sa).clinic_id, kClinicA);
  EXPECT_EQ(decide_key(sb).clinic_id, kClinicB);
  // Clinic B's plan going away does not touch clinic A.
  host_->subs.set(kClinicB, false);
  plugin_->on_subscription_changed(kClinicB);
  EXPECT_TRUE(decide_key(sa).allowed);
  EXPECT_EQ(decide_key(sb).status, 403);
}

TEST_P(HookTest, ARevocationInAnotherProcessArrivesThroughTheChangeFeed) {
  auto [id, secret] = create_key();
  EXPECT_TRUE(decide_key(secret).allowed);
  // Another host process on the same database revokes it: it has its own plugin instance.
  TestRegistrar other_reg;
  auto other = std::make_shared<ApiAccessPlugin>();
  ASSERT_TRUE(other->on_load(*host_, other_reg).ok);
  auto& other_routes = other_reg.routes;
  host::RouteRequest req;
  req.method = "POST";
  req.user = admin_a();
  req.params = {{"id", std::to_string(id)}};
  for (auto& r : other_routes)
    if (r.pattern == "keys/{id}/revoke") {
      EXPECT_EQ(r.handler(req).status, 200);
    }
  other->on_stop();
  // This process learns it from its change feed without being told: on PostgreSQL through
  // NOTIFY (milliseconds), on SQLite through the feed's fallback read (every second).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  std::string code;
  while ((code = code_of(decide_key(secret))) != "revoked_api_key" &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(code, "revoked_api_key");
}

TEST_P(HookTest, ConcurrentRequestsAreAllDecidedAndCounted) {
  auto [id, secret] = create_key();
  // 2,000 requests at one instant: above the plan's default limit (600 per minute).
  ASSERT_EQ(call("PATCH", "keys/" + std::to_string(id), R"({"rate_limit":{"requests":2000,"per_seconds":60}})").status, 200);
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 250; ++i) {
        FakeApiRequest r;
        r.bearer(secret);
        host::ApiDecision d;
        reg_->hook->on_api_request(r, d);
        if (!d.allowed || d.clinic_id != kClinicA) ++wrong;
        reg_->hook->on_api_response(d.token, (i % 10 == 0) ? 500 : 200);
      }
      (void)t;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(wrong.load(), 0);
  auto usage = call("GET", "keys/" + std::to_string(id) + "/usage?days=1");
  EXPECT_EQ(usage.json.at("requests"), 2000);
  EXPECT_EQ(usage.json.at("days").at(0).at("server_errors"), 200);
}

TEST_P(HookTest, ARevocationRacingAFirstUseIsNeverLost) {
  // The first use of a key loads it into the cache while the admin revokes it: whatever the
  // interleaving, once the revoke answered, the key is refused (auth/key_loader.hpp).
  for (int i = 0; i < 20; ++i) {
    auto [id, secret] = create_key("race " + std::to_string(i));
    std::thread user([&, s = secret] {
      for (int j = 0; j < 5; ++j) decide_key(s);
    });
    EXPECT_EQ(call("POST", "keys/" + std::to_string(id) + "/revoke").status, 200);
    EXPECT_EQ(code_of(decide_key(secret)), "revoked_api_key");
    user.join();
    EXPECT_EQ(code_of(decide_key(secret)), "revoked_api_key");
  }
}

TEST_P(HookTest, LogLinesNameKeysByPreviewOnly) {
  auto [id, secret] = create_key();
  decide_key(secret);
  call("POST", "keys/" + std::to_string(id) + "/rotate", R"({"grace_seconds":5})");
  call("POST", "keys/" + std::to_string(id) + "/revoke");
  EXPECT_TRUE(host_->log_.mentions(secret.substr(secret.size() - 4)));  // the preview is logged
  for (const auto& line : host_->log_.lines()) {
    EXPECT_EQ(line.find(secret.substr(4, 16)), std::string::npos) << line;
    EXPECT_EQ(line.find(to_hex(digest_of(secret))), std::string::npos) << line;
  }
}

TEST_P(HookTest, ArbitraryInputNeverCrashesOrLetsAnythingIn) {
  auto [id, secret] = create_key();
  std::mt19937_64 rng(12345);  // fixed seed: a failure reproduces
  static const char kChars[] = "mdp_ABCDEFGHIJKLMNOPQRSTUVWXYZ234567=+/%&;\0\t \r\n\xff\xe2\x80\xa6";
  const std::string alphabet = std::string(kChars, sizeof kChars - 1) + secret;
  auto random_text = [&](std::size_t max) {
    std::string out(rng() % max, '\0');
    for (auto& c : out) c = alphabet[rng() % alphabet.size()];
    return out;
  };
  for (int i = 0; i < 3000; ++i) {
    FakeApiRequest r;
    r.query_ = random_text(i % 100 == 0 ? 70000 : 80);
    for (int h = 0, n = static_cast<int>(rng() % 4); h < n; ++h)
      r.header(rng() % 2 ? "Authorization" : "X-API-Key",
               (rng() % 2 ? "Bearer " : "") + random_text(i % 97 == 0 ? 100000 : 70));
    r.scope_ = rng() % 2 ? "read" : random_text(20);
    host::ApiDecision d;
    reg_->hook->on_api_request(r, d);
    reg_->hook->on_api_response(d.token, 200);
    if (d.allowed) {  // only the real key can get in, and only as its clinic
      EXPECT_EQ(d.clinic_id, kClinicA);
    } else {
      EXPECT_TRUE(d.status == 401 || d.status == 403 || d.status == 429) << d.status;
      EXPECT_FALSE(d.body.empty());
      EXPECT_EQ(d.body.find(secret), std::string::npos);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Dialects, HookTest,
                         ::testing::Values(host::Dialect::sqlite, host::Dialect::postgresql),
                         param_name);

}  // namespace
}  // namespace mdp::api_access::test
