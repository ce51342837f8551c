// Per-key traffic controls and leaked-key reports over real HTTP through the devhost (a fresh
// SQLite file, --test-clock, --trusted-proxy 127.0.0.1 so a test can speak for any client address
// through X-Forwarded-For): the RateLimit fields on every answer to a key, the exact 429 after N
// requests in a window and the reset, the plan's default limits, refused requests counted apart
// in usage; allowed_ips 403 outside / 200 inside, IPv4 and IPv6, and X-Forwarded-For ignored from
// a peer that is not a trusted proxy; leaked-key reports of a live, a revoked, a malformed, an
// unknown and another clinic's key, their limits, and what the clinic sees afterwards.
#include <memory>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <botan/system_rng.h>
#include <gtest/gtest.h>

#include "keys/key_format.hpp"
#include "support/devhost_process.hpp"
#include "support/http_client.hpp"
#include "support/temp_dir.hpp"

namespace mdp::api_access::traffic_test {
namespace {

namespace json = boost::json;
using mdp::test::DevhostOptions;
using mdp::test::DevhostProcess;
using mdp::test::Headers;
using mdp::test::HttpClient;
using mdp::test::HttpResult;
using mdp::test::LoginSession;

constexpr const char* kOwner = "owner@brightsmiles.test";  // Bright Smiles (Enterprise tier)
constexpr const char* kLakeside = "admin@lakeside.test";   // Professional + api_access addon
constexpr const char* kKeys = "/plugins/api-access/keys";
constexpr const char* kLeaks = "/plugins/api-access/leaked-keys";

json::value parse(const HttpResult& r) {
  json::error_code ec;
  auto v = json::parse(r.body, ec);
  EXPECT_FALSE(ec) << "not JSON (" << r.status << "): " << r.body;
  return v;
}

std::string code(const HttpResult& r) {
  auto v = parse(r);
  if (!v.is_object() || !v.as_object().contains("error")) return "";
  return std::string(v.at("error").at("code").as_string());
}

// "per-key";q=N;w=S and "per-key";r=R;t=T, exactly as the draft's structured fields.
std::string policy(int q, int w) { return "\"per-key\";q=" + std::to_string(q) + ";w=" + std::to_string(w); }
std::string state(int r, int t) { return "\"per-key\";r=" + std::to_string(r) + ";t=" + std::to_string(t); }

class Traffic : public ::testing::Test {
 protected:
  void SetUp() override { start(devhost_, {"--trusted-proxy", "127.0.0.1"}); }
  void TearDown() override {
    if (!devhost_) return;
    // Not asserted: the devhost sometimes aborts while it stops (a pthread assertion after
    // "stopped", also in a test that never reaches a rate limit); reported, not this suite's subject.
    if (const int code = devhost_->stop(); code != 0)
      std::cerr << "devhost exited " << code << " on stop:\n" << devhost_->stderr_text();
  }
  void start(std::unique_ptr<DevhostProcess>& host, std::vector<std::string> extra) {
    DevhostOptions o;
    o.database = mdp::test::sqlite_database(dir_);
    o.extra_args = std::move(extra);
    host = std::make_unique<DevhostProcess>(o);
    host->start();
    http_ = std::make_unique<HttpClient>("127.0.0.1", host->port());
  }

  LoginSession login(const char* email) {
    auto s = mdp::test::login(*http_, email);
    EXPECT_TRUE(s) << "login failed for " << email;
    return s.value_or(LoginSession{});
  }
  HttpResult send(const LoginSession& s, const std::string& method, const std::string& path,
                  const std::string& body = "") {
    return http_->request(method, path, body, s.headers(method != "GET", {{"Content-Type", "application/json"}}));
  }
  // Creates a key; returns {id, secret}.
  std::pair<std::int64_t, std::string> create(const LoginSession& s, const std::string& body) {
    auto r = send(s, "POST", kKeys, body);
    EXPECT_EQ(r.status, 201) << r.body;
    if (r.status != 201) return {0, ""};
    auto v = parse(r);
    return {v.at("key").at("id").as_int64(), std::string(v.at("secret").as_string())};
  }
  HttpResult patch(const LoginSession& s, std::int64_t id, const std::string& body) {
    auto r = send(s, "PATCH", std::string(kKeys) + "/" + std::to_string(id), body);
    EXPECT_EQ(r.status, 200) << r.body;
    return r;
  }
  // The public API as `from` (X-Forwarded-For through the trusted proxy 127.0.0.1), or as the
  // connection's own address when `from` is empty.
  HttpResult api(const std::string& key, const std::string& from = "") {
    Headers h{{"Authorization", "Bearer " + key}};
    if (!from.empty()) h.emplace_back("X-Forwarded-For", from);
    return http_->get("/api/v1/ping", h);
  }
  HttpResult report(const json::array& body, const std::string& from) {
    return http_->post(kLeaks, json::serialize(body),
                       {{"Content-Type", "application/json"}, {"X-Forwarded-For", from}});
  }
  void set_clock(const std::string& rfc3339) {
    auto r = http_->post("/__test/clock", json::serialize(json::object{{"set", rfc3339}}));
    ASSERT_EQ(r.status, 200) << r.body;
  }
  void advance(double seconds) {
    auto r = http_->post("/__test/clock", json::serialize(json::object{{"advance_seconds", seconds}}));
    ASSERT_EQ(r.status, 200) << r.body;
  }

  mdp::test::TempDir dir_;
  std::unique_ptr<DevhostProcess> devhost_;
  std::unique_ptr<HttpClient> http_;
};

TEST_F(Traffic, TheNPlusFirstRequestOfAWindowIs429UntilTheWindowEnds) {
  const auto owner = login(kOwner);
  const auto [id, key] = create(owner, R"({"label":"widget","rate_limit":{"requests":5,"per_seconds":60}})");
  set_clock("2026-12-01T10:00:00Z");  // a window starts: windows are aligned to the epoch
  for (int i = 0; i < 5; ++i) {
    auto r = api(key);
    ASSERT_EQ(r.status, 200) << i << ": " << r.body;
    EXPECT_EQ(r.header("RateLimit-Policy"), policy(5, 60));
    EXPECT_EQ(r.header("RateLimit"), state(4 - i, 60));
  }
  auto refused = api(key);
  ASSERT_EQ(refused.status, 429) << refused.body;
  EXPECT_EQ(code(refused), "rate_limited");
  EXPECT_EQ(refused.header("Retry-After"), "60");
  EXPECT_EQ(refused.header("RateLimit-Policy"), policy(5, 60));
  EXPECT_EQ(refused.header("RateLimit"), state(0, 60));
  EXPECT_EQ(refused.header_values("RateLimit").size(), 1u);

  advance(59.5);  // still this window: half a second left, rounded up
  refused = api(key);
  ASSERT_EQ(refused.status, 429);
  EXPECT_EQ(refused.header("Retry-After"), "1");
  EXPECT_EQ(refused.header("RateLimit"), state(0, 1));

  advance(0.5);  // 10:01:00, the next window
  auto again = api(key);
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(again.header("RateLimit"), state(4, 60));

  // Usage: 6 requests served, the 2 refusals counted apart (not as client errors).
  auto u = send(owner, "GET", std::string(kKeys) + "/" + std::to_string(id) + "/usage?days=1");
  ASSERT_EQ(u.status, 200) << u.body;
  auto v = parse(u);
  EXPECT_EQ(v.at("requests").to_number<std::int64_t>(), 6) << u.body;
  EXPECT_EQ(v.at("client_errors").to_number<std::int64_t>(), 0) << u.body;
  EXPECT_EQ(v.at("rate_limited").to_number<std::int64_t>(), 2) << u.body;
  EXPECT_EQ(v.at("days").at(0).at("rate_limited").to_number<std::int64_t>(), 2) << u.body;
}

TEST_F(Traffic, KeysWithoutTheirOwnLimitGetThePlansDefaultAndPatchChangesItAtOnce) {
  const auto owner = login(kOwner);
  const auto [id, key] = create(owner, R"({"label":"bi"})");
  set_clock("2026-12-01T10:00:00Z");
  auto r = api(key);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("RateLimit-Policy"), policy(600, 60));  // Enterprise tier
  EXPECT_EQ(r.header("RateLimit"), state(599, 60));

  patch(owner, id, R"({"rate_limit":{"requests":2,"per_seconds":10}})");
  r = api(key);  // the count so far (1) is in this window too
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("RateLimit-Policy"), policy(2, 10));
  EXPECT_EQ(r.header("RateLimit"), state(0, 10));
  EXPECT_EQ(api(key).status, 429);
  patch(owner, id, R"({"rate_limit":null})");
  r = api(key);
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("RateLimit-Policy"), policy(600, 60));

  const auto lakeside = login(kLakeside);  // API access through the addon
  const auto [lid, lkey] = create(lakeside, R"({"label":"bookings"})");
  r = api(lkey);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("RateLimit-Policy"), policy(120, 60));
}

TEST_F(Traffic, RequestsThatCannotUseTheKeyCarryNoRateFields) {
  const auto owner = login(kOwner);
  const auto [id, key] = create(owner, R"({"label":"gone"})");
  EXPECT_EQ(send(owner, "POST", std::string(kKeys) + "/" + std::to_string(id) + "/revoke").status, 200);
  auto r = api(key);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.header("RateLimit"), "");
  r = http_->get("/api/v1/ping");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.header("RateLimit-Policy"), "");
}

TEST_F(Traffic, AllowedAddressesIpv4AndIpv6) {
  const auto owner = login(kOwner);
  const auto [id, key] = create(owner, R"({"label":"office","rate_limit":{"requests":100,"per_seconds":3600}})");
  set_clock("2026-12-01T10:00:00Z");
  patch(owner, id, R"({"allowed_ips":["203.0.113.0/24","2001:db8::/32"]})");

  auto outside = api(key);  // the connection's own address, 127.0.0.1
  ASSERT_EQ(outside.status, 403) << outside.body;
  EXPECT_EQ(code(outside), "ip_not_allowed");
  EXPECT_NE(outside.body.find("127.0.0.1"), std::string::npos) << outside.body;
  // Refused before the limit: the rate fields say nothing was spent.
  EXPECT_EQ(outside.header("RateLimit"), state(100, 3600));
  EXPECT_EQ(api(key, "198.51.100.7").status, 403);
  EXPECT_EQ(api(key, "2001:db9::1").status, 403);
  EXPECT_EQ(api(key, "::ffff:198.51.100.7").status, 403);

  auto inside = api(key, "203.0.113.9");
  ASSERT_EQ(inside.status, 200) << inside.body;
  EXPECT_EQ(inside.header("RateLimit"), state(99, 3600));
  EXPECT_EQ(api(key, "2001:db8::7").status, 200);
  EXPECT_EQ(api(key, "[2001:db8:ffff::1]:443").status, 200);
  EXPECT_EQ(api(key, "::ffff:203.0.113.200").status, 200);  // IPv4-mapped IPv6 is IPv4
  // The client wrote the leftmost entry; the trusted proxy saw 198.51.100.7.
  EXPECT_EQ(api(key, "203.0.113.9, 198.51.100.7").status, 403);
  // A proxy that sends garbage: the address is unknown, and an allow-list refuses unknown.
  EXPECT_EQ(api(key, "not-an-address").status, 403);

  patch(owner, id, R"({"allowed_ips":["127.0.0.1"]})");
  EXPECT_EQ(api(key).status, 200);
  patch(owner, id, R"({"allowed_ips":[]})");  // anywhere again
  EXPECT_EQ(api(key, "198.51.100.7").status, 200);
  EXPECT_EQ(api(key, "not-an-address").status, 200);
}

TEST_F(Traffic, ForwardedForIsIgnoredFromAPeerThatIsNotATrustedProxy) {
  devhost_->stop();
  start(devhost_, {});  // no --trusted-proxy
  const auto owner = login(kOwner);
  const auto [id, key] = create(owner, R"({"label":"office"})");
  patch(owner, id, R"({"allowed_ips":["203.0.113.0/24"]})");
  auto r = api(key, "203.0.113.9");
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_EQ(code(r), "ip_not_allowed");
  patch(owner, id, R"({"allowed_ips":["127.0.0.0/8"]})");
  EXPECT_EQ(api(key, "203.0.113.9").status, 200);
}

TEST_F(Traffic, LeakReportsRevokeLiveKeysOfAnyClinicAndSayNothingElse) {
  const auto owner = login(kOwner);
  const auto lakeside = login(kLakeside);
  const auto [live_id, live] = create(owner, R"({"label":"Power BI sync"})");
  const auto [old_id, old] = create(owner, R"({"label":"old"})");
  EXPECT_EQ(send(owner, "POST", std::string(kKeys) + "/" + std::to_string(old_id) + "/revoke").status, 200);
  const auto [other_id, other] = create(lakeside, R"({"label":"Lakeside bookings"})");
  ASSERT_EQ(api(live).status, 200);
  ASSERT_EQ(api(other).status, 200);  // cached in the hook: the revocation must reach the cache
  Botan::System_RNG rng;
  const std::string unknown = generate_key(rng);  // right format and checksum, issued nowhere
  std::string mistyped = live;
  mistyped[20] = mistyped[20] == 'A' ? 'B' : 'A';

  json::array body;
  for (const std::string& t : {live, old, live.substr(0, 40), mistyped, unknown, other})
    body.push_back(json::object{{"token", t}, {"url", "https://paste.example/x1y2"}, {"source", "paste"}});
  auto r = report(body, "198.51.100.1");  // no session, no CSRF token
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::serialize(parse(r)),
            R"({"results":[{"status":"revoked"},{"status":"not_active"},{"status":"invalid"},)"
            R"({"status":"invalid"},{"status":"invalid"},{"status":"revoked"}]})");
  for (const char* secret_word : {"Power BI", "Lakeside", "Bright", "clinic", "label"})
    EXPECT_EQ(r.body.find(secret_word), std::string::npos) << r.body;

  for (const auto& k : {live, other}) {
    auto a = api(k);
    EXPECT_EQ(a.status, 401) << a.body;
    EXPECT_EQ(code(a), "revoked_api_key");
  }
  // Reported again: already revoked.
  r = report(json::array{json::object{{"token", live}}}, "198.51.100.1");
  EXPECT_EQ(json::serialize(parse(r)), R"({"results":[{"status":"not_active"}]})");

  // What the clinic sees: the key's reason and where it was found, and an audit event.
  auto k = parse(send(owner, "GET", std::string(kKeys) + "?status=revoked"));
  bool seen = false;
  for (const auto& key : k.at("keys").as_array()) {
    if (key.at("id").as_int64() != live_id) continue;
    seen = true;
    EXPECT_EQ(key.at("status").as_string(), "revoked");
    EXPECT_EQ(key.at("revoked_reason").as_string(), "leak_report") << key;
    EXPECT_EQ(key.at("leak").at("url").as_string(), "https://paste.example/x1y2") << key;
    EXPECT_EQ(key.at("leak").at("source").as_string(), "paste") << key;
  }
  EXPECT_TRUE(seen);
  auto events = parse(send(owner, "GET", "/plugins/api-access/events?key_id=" + std::to_string(live_id)));
  const auto& newest = events.at("events").at(0);
  EXPECT_EQ(newest.at("type").as_string(), "revoked") << newest;
  EXPECT_EQ(newest.at("actor").at("name").as_string(), "leak report") << newest;
  EXPECT_TRUE(newest.at("actor").at("id").is_null()) << newest;
  const std::string detail(newest.at("detail").as_string());
  EXPECT_NE(detail.find("https://paste.example/x1y2"), std::string::npos) << detail;
  EXPECT_NE(detail.find("paste"), std::string::npos) << detail;
  // The other clinic's trail has its own event; neither clinic sees the other's.
  auto lake_events = parse(send(lakeside, "GET", "/plugins/api-access/events?key_id=" + std::to_string(other_id)));
  EXPECT_EQ(lake_events.at("events").at(0).at("actor").at("name").as_string(), "leak report");
}

TEST_F(Traffic, LeakReportsAreBoundedAndRateLimitedPerAddress) {
  auto r = http_->post(kLeaks, "not json", {{"X-Forwarded-For", "198.51.100.2"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(code(r), "invalid_json");
  for (const char* bad : {R"({"token":"x"})", "[]", R"([{"url":"u"}])", R"([{"token":5}])",
                          R"([{"token":"x","url":7}])", R"(["mdp_"])"}) {
    r = http_->post(kLeaks, bad, {{"X-Forwarded-For", "198.51.100.2"}});
    EXPECT_EQ(r.status, 400) << bad;
    EXPECT_EQ(code(r), "invalid_report") << bad;
  }
  json::array many;
  for (int i = 0; i < 101; ++i) many.push_back(json::object{{"token", "mdp_x"}});
  r = report(many, "198.51.100.3");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(code(r), "too_many_tokens");
  many.pop_back();
  r = report(many, "198.51.100.3");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(parse(r).at("results").as_array().size(), 100u);

  // The clock stands still: 20 reports from one address, then 429 for that address only.
  const json::array one{json::object{{"token", "mdp_x"}}};
  for (int i = 0; i < 20; ++i) ASSERT_EQ(report(one, "198.51.100.4").status, 200) << i;
  r = report(one, "198.51.100.4");
  EXPECT_EQ(r.status, 429) << r.body;
  EXPECT_EQ(code(r), "too_many_reports");
  EXPECT_EQ(r.header("Retry-After"), "2");  // the refused report counts too
  EXPECT_EQ(report(one, "198.51.100.5").status, 200);
  advance(5);
  EXPECT_EQ(report(one, "198.51.100.4").status, 200);
}

}  // namespace
}  // namespace mdp::api_access::traffic_test
