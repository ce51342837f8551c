// The whole api-access flow over real HTTP through the devhost (tests/support launches it with
// --test-clock on a fresh SQLite file or the throwaway PostgreSQL): admin routes with session,
// permission and CSRF; every hook decision; revocation, expiry and plan changes on the next
// request; usage exact after mixed requests and after a graceful restart; clinic isolation.
#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "app/response_recorder.hpp"
#include "support/devhost_process.hpp"
#include "support/http_client.hpp"
#include "support/postgres_env.hpp"
#include "support/temp_dir.hpp"
#include "util/clinic_time.hpp"
#include "util/time_format.hpp"

namespace mdp::api_access::http_test {
namespace {

namespace json = boost::json;
using mdp::test::DevhostOptions;
using mdp::test::DevhostProcess;
using mdp::test::Headers;
using mdp::test::HttpClient;
using mdp::test::HttpResult;
using mdp::test::LoginSession;

constexpr const char* kOwner = "owner@brightsmiles.test";       // Bright Smiles (Enterprise), admin
constexpr const char* kStaff = "frontdesk@brightsmiles.test";   // Bright Smiles staff
constexpr const char* kDowntown = "admin@downtown.test";        // Professional, no addon
constexpr const char* kLakeside = "admin@lakeside.test";        // Professional + api_access addon
constexpr const char* kKeys = "/plugins/api-access/keys";

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

class HttpTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    DevhostOptions o;
    if (GetParam() == "PostgreSQL") {
      MDP_PG_CONNINFO_OR_SKIP(pg);
      mdp::test::reset_pg_database(pg);
      o.database = pg;
    } else {
      o.database = mdp::test::sqlite_database(dir_);
    }
    // Recorded always (under ctest into the folder openapi.responses checks): the secrets test
    // below reads the file.
    if (std::getenv("MDP_RECORD_RESPONSES_DIR") == nullptr)
      o.record_responses = (dir_.path() / "answers.jsonl").string();
    devhost_ = std::make_unique<DevhostProcess>(o);
    devhost_->start();
    connect();
  }
  void TearDown() override {
    if (devhost_) devhost_->stop();
  }
  void connect() { http_ = std::make_unique<HttpClient>("127.0.0.1", devhost_->port()); }
  // Graceful restart: SIGTERM (the plugin flushes usage in on_stop), then start again.
  void restart() {
    ASSERT_EQ(devhost_->stop(), 0) << devhost_->stderr_text();
    devhost_->start();
    connect();
  }

  LoginSession login(const char* email) {
    auto s = mdp::test::login(*http_, email);
    EXPECT_TRUE(s) << "login failed for " << email;
    return s.value_or(LoginSession{});
  }
  HttpResult admin_get(const LoginSession& s, const std::string& path) {
    return http_->get(path, s.headers(false));
  }
  HttpResult admin_post(const LoginSession& s, const std::string& path, const std::string& body = "") {
    return http_->post(path, body, s.headers(true, {{"Content-Type", "application/json"}}));
  }
  // Creates a key; returns {id, secret}.
  std::pair<std::int64_t, std::string> create(const LoginSession& s, const std::string& body =
                                                  R"({"label":"Power BI sync","scopes":["read"]})") {
    auto r = admin_post(s, kKeys, body);
    EXPECT_EQ(r.status, 201) << r.body;
    auto v = parse(r);
    if (r.status != 201) return {0, ""};
    return {v.at("key").at("id").as_int64(), std::string(v.at("secret").as_string())};
  }
  HttpResult api(const std::string& key, const std::string& target = "/api/v1/patients") {
    return http_->get(target, {{"Authorization", "Bearer " + key}});
  }
  Micros clock_now() {
    auto r = http_->get("/__test/clock");
    EXPECT_EQ(r.status, 200) << r.body;
    return parse_rfc3339(std::string(parse(r).at("now").as_string())).value_or(0);
  }
  void advance(long long seconds) {
    auto r = http_->post("/__test/clock", json::serialize(json::object{{"advance_seconds", seconds}}),
                         {{"Content-Type", "application/json"}});
    ASSERT_EQ(r.status, 200) << r.body;
  }
  json::value usage(const LoginSession& s, std::int64_t id, int days) {
    auto r = admin_get(s, std::string(kKeys) + "/" + std::to_string(id) + "/usage?days=" + std::to_string(days));
    EXPECT_EQ(r.status, 200) << r.body;
    return parse(r);
  }

  mdp::test::TempDir dir_;
  std::unique_ptr<DevhostProcess> devhost_;
  std::unique_ptr<HttpClient> http_;
};

TEST_P(HttpTest, CreateListCallRotateRevoke) {
  const auto owner = login(kOwner);
  // Every POST needs the session's CSRF token.
  auto no_csrf = http_->post(kKeys, R"({"label":"x"})", owner.headers(false));
  EXPECT_EQ(no_csrf.status, 403);
  EXPECT_EQ(code(no_csrf), "csrf_token_invalid");

  auto [id, secret] = create(owner);
  ASSERT_FALSE(secret.empty());
  auto list = admin_get(owner, kKeys);
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(list.body.find(secret.substr(4)), std::string::npos);
  EXPECT_EQ(parse(list).at("keys").at(0).at("preview"),
            json::value("mdp_\xE2\x80\xA6" + secret.substr(secret.size() - 4)));

  auto served = api(secret);
  ASSERT_EQ(served.status, 200) << served.body;
  EXPECT_EQ(parse(served).at("clinic").at("id"), 1);
  EXPECT_EQ(http_->get("/api/v1/appointments", {{"X-API-Key", secret}}).status, 200);

  auto rotated = admin_post(owner, std::string(kKeys) + "/" + std::to_string(id) + "/rotate");
  ASSERT_EQ(rotated.status, 201) << rotated.body;
  const std::string new_secret(parse(rotated).at("secret").as_string());
  EXPECT_EQ(parse(rotated).at("key").at("rotated_from"), id);
  EXPECT_EQ(api(new_secret).status, 200);
  EXPECT_EQ(api(secret).status, 200);  // no grace given: works until revoked

  auto revoked = admin_post(owner, std::string(kKeys) + "/" + std::to_string(id) + "/revoke");
  ASSERT_EQ(revoked.status, 200) << revoked.body;
  EXPECT_EQ(parse(revoked).at("key").at("status"), "revoked");
  auto refused = api(secret);  // the very next request
  EXPECT_EQ(refused.status, 401);
  EXPECT_EQ(code(refused), "revoked_api_key");
  EXPECT_EQ(api(new_secret).status, 200);

  auto events = parse(admin_get(owner, "/plugins/api-access/events")).at("events").as_array();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].at("type"), "revoked");
  EXPECT_EQ(events[1].at("type"), "rotated");
  EXPECT_EQ(events[2].at("type"), "created");
  EXPECT_EQ(events[2].at("actor").at("name"), "Olivia Hart");

  // A rotation that would finish itself, cancelled, then one finished by hand (the routes over
  // HTTP; the automatic part is tested with the test clock in test_auto_rotation.cpp).
  const std::string new_id = std::to_string(parse(rotated).at("key").at("id").as_int64());
  auto waiting = admin_post(owner, std::string(kKeys) + "/" + new_id + "/rotate",
                            R"({"finish_automatically":{"quiet_seconds":60}})");
  ASSERT_EQ(waiting.status, 201) << waiting.body;
  EXPECT_EQ(parse(waiting).at("rotated_key").at("auto_rotation").at("quiet_seconds"), 60);
  const std::string third_id = std::to_string(parse(waiting).at("key").at("id").as_int64());
  EXPECT_EQ(admin_post(owner, std::string(kKeys) + "/" + new_id + "/rotation/cancel").status, 200);
  auto again = admin_post(owner, std::string(kKeys) + "/" + new_id + "/rotation/cancel");
  EXPECT_EQ(again.status, 409);
  EXPECT_EQ(code(again), "rotation_not_waiting");
  ASSERT_EQ(admin_post(owner, std::string(kKeys) + "/" + third_id + "/rotate", R"({"finish_automatically":true})").status, 201);
  auto finished = admin_post(owner, std::string(kKeys) + "/" + third_id + "/rotation/finish");
  ASSERT_EQ(finished.status, 200) << finished.body;
  EXPECT_EQ(parse(finished).at("key").at("status"), "revoked");

  // The devhost recorded the create and rotate answers (--record-responses) with each secret
  // replaced by a placeholder of a key's format, which cannot authenticate.
  std::ifstream in(devhost_->recorded_responses(), std::ios::binary);
  std::ostringstream recorded;
  recorded << in.rdbuf();
  EXPECT_NE(recorded.str().find("/plugins/api-access/keys/{id}/rotate"), std::string::npos);
  EXPECT_EQ(recorded.str().find(secret.substr(4)), std::string::npos);
  EXPECT_EQ(recorded.str().find(new_secret.substr(4)), std::string::npos);
  const std::string placeholder(mdp::devhost::kRecordedKeyPlaceholder);
  const auto first = recorded.str().find(placeholder);
  ASSERT_NE(first, std::string::npos);
  EXPECT_NE(recorded.str().find(placeholder, first + 1), std::string::npos);  // create and rotate
  auto fake = api(placeholder);
  EXPECT_EQ(fake.status, 401);
  EXPECT_EQ(code(fake), "invalid_api_key");
}

TEST_P(HttpTest, AdminRouteErrors) {
  const auto owner = login(kOwner);
  auto [id, secret] = create(owner);
  struct Case { std::string body; int status; const char* code; };
  for (const auto& c : std::vector<Case>{
           {R"({"label":""})", 400, "invalid_label"},
           {"{\"label\":\"" + std::string(101, 'x') + "\"}", 400, "invalid_label"},
           {R"({"label":"x","scopes":["root"]})", 400, "unknown_scope"},
           {R"({"label":"x","scopes":[]})", 400, "missing_scope"},
           {R"({"label":"x","expires_at":"2001-01-01T00:00:00Z"})", 400, "invalid_expiry"},
           {R"({"label":"x",)", 400, "invalid_json"},
       }) {
    auto r = admin_post(owner, kKeys, c.body);
    EXPECT_EQ(r.status, c.status) << c.body;
    EXPECT_EQ(code(r), c.code) << c.body;
  }
  EXPECT_EQ(code(admin_post(owner, std::string(kKeys) + "/424242/revoke")), "key_not_found");
  EXPECT_EQ(code(admin_post(owner, std::string(kKeys) + "/nope/rotate")), "key_not_found");
  EXPECT_EQ(code(admin_get(owner, std::string(kKeys) + "/" + std::to_string(id) + "/usage?days=91")),
            "invalid_days");
  EXPECT_EQ(code(admin_post(owner, std::string(kKeys) + "/" + std::to_string(id) + "/rotate",
                            R"({"grace_seconds":-5})")),
            "invalid_grace_seconds");
  // A hostile label is data.
  const std::string hostile = "<script>alert(1)</script>'; DROP TABLE api_access_keys; --";
  auto r = admin_post(owner, kKeys, json::serialize(json::object{{"label", hostile}}));
  ASSERT_EQ(r.status, 201);
  EXPECT_EQ(parse(admin_get(owner, kKeys)).at("keys").at(0).at("label"), json::value(hostile));
}

TEST_P(HttpTest, EveryHookDecision) {
  const auto owner = login(kOwner);
  auto [rid, reader] = create(owner);
  auto [wid, writer] = create(owner, R"({"label":"Booking widget","scopes":["appointments:write"]})");

  auto missing = http_->get("/api/v1/patients");
  EXPECT_EQ(missing.status, 401);
  EXPECT_EQ(code(missing), "missing_api_key");
  EXPECT_EQ(missing.header("WWW-Authenticate"), "Bearer");

  auto in_query = http_->get("/api/v1/patients?api_key=" + reader, {{"Authorization", "Bearer " + reader}});
  EXPECT_EQ(in_query.status, 401);
  EXPECT_EQ(code(in_query), "api_key_in_query_not_allowed");

  std::string typo = reader;
  typo[25] = typo[25] == 'A' ? 'B' : 'A';
  const std::string unknown = "mdp_" + std::string(57, 'A') + "A";  // grammar ok, checksum bad
  auto a = api(typo), b = api(unknown), c = api("mdp_short"), d = api(reader.substr(0, 61));
  for (const auto* r : {&a, &b, &c, &d}) {
    EXPECT_EQ(r->status, 401);
    EXPECT_EQ(code(*r), "invalid_api_key");
    EXPECT_EQ(r->body, a.body);
  }
  auto two = http_->get("/api/v1/patients", {{"Authorization", "Bearer " + reader}, {"X-API-Key", writer}});
  EXPECT_EQ(code(two), "invalid_api_key");

  auto scope = http_->post("/api/v1/appointments", "{}", {{"Authorization", "Bearer " + reader},
                                                          {"Content-Type", "application/json"}});
  EXPECT_EQ(scope.status, 403);
  EXPECT_EQ(code(scope), "insufficient_scope");
  EXPECT_NE(scope.body.find("appointments:write"), std::string::npos);
  EXPECT_EQ(code(api(writer)), "insufficient_scope");  // write does not imply read
  auto write = http_->post("/api/v1/appointments",
                           R"({"patient_id":1,"starts_at":"2026-12-01T09:00:00Z","reason":"Checkup"})",
                           {{"Authorization", "bearer " + writer}, {"Content-Type", "application/json"}});
  EXPECT_EQ(write.status, 201) << write.body;
}

// Every error body links its catalogue entry; the link is a page the plugin serves to anyone.
TEST_P(HttpTest, ErrorBodiesLinkThePublicCataloguePage) {
  const auto owner = login(kOwner);
  const auto refused = http_->get("/api/v1/patients");
  const auto bad = admin_post(owner, kKeys, R"({"label":""})");
  for (const auto* r : {&refused, &bad}) {
    const std::string c = code(*r);
    const std::string doc(parse(*r).at("error").at("doc").as_string());
    EXPECT_EQ(doc, "/plugins/api-access/errors#" + c);
    // No session, no cookie: integrators follow the link from their own logs.
    const auto page = http_->get(doc.substr(0, doc.find('#')));
    ASSERT_EQ(page.status, 200);
    EXPECT_EQ(page.header("Content-Type").rfind("text/html", 0), 0u) << page.header("Content-Type");
    EXPECT_NE(page.body.find("id=\"" + c + "\""), std::string::npos) << c;
  }
  // The OpenAPI document too: no session, JSON, the codes of the catalogue.
  const auto doc = http_->get("/plugins/api-access/openapi.json");
  ASSERT_EQ(doc.status, 200);
  EXPECT_EQ(doc.header("Content-Type").rfind("application/json", 0), 0u) << doc.header("Content-Type");
  const json::value v = parse(doc);
  EXPECT_EQ(v.at("openapi"), "3.1.0");
  EXPECT_TRUE(v.at("paths").as_object().contains("/plugins/api-access/keys/{id}/rotate"));
  const auto& codes = v.at("components").at("schemas").at("ErrorCode").at("enum").as_array();
  EXPECT_NE(std::find(codes.begin(), codes.end(), json::value("revoked_api_key")), codes.end());
}

TEST_P(HttpTest, ExpiryTakesEffectOnTheNextRequest) {
  const auto owner = login(kOwner);
  const Micros now = clock_now();
  auto [id, secret] = create(owner, json::serialize(json::object{
                                        {"label", "short-lived"},
                                        {"expires_at", format_rfc3339(floor_seconds(now) + 120 * kMicrosPerSecond)}}));
  EXPECT_EQ(api(secret).status, 200);
  advance(121);
  auto r = api(secret);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(code(r), "expired_api_key");
  // Rotation with a grace period: the old key stops after it.
  auto [id2, old] = create(owner);
  auto rot = admin_post(owner, std::string(kKeys) + "/" + std::to_string(id2) + "/rotate", R"({"grace_seconds":60})");
  ASSERT_EQ(rot.status, 201);
  EXPECT_EQ(api(old).status, 200);
  advance(61);
  EXPECT_EQ(code(api(old)), "expired_api_key");
  EXPECT_EQ(api(std::string(parse(rot).at("secret").as_string())).status, 200);
  auto events = parse(admin_get(owner, "/plugins/api-access/events")).at("events").as_array();
  int expired = 0;
  for (const auto& e : events) expired += e.at("type") == "expired" && e.at("actor").is_null();
  EXPECT_EQ(expired, 2);
}

TEST_P(HttpTest, PlanChangesTakeEffectOnTheNextRequest) {
  const auto downtown = login(kDowntown);
  auto r = admin_post(downtown, kKeys, R"({"label":"x"})");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(code(r), "api_access_not_enabled");
  EXPECT_EQ(admin_get(downtown, kKeys).status, 200);

  const auto lakeside = login(kLakeside);
  auto [id, secret] = create(lakeside);
  auto served = api(secret);
  ASSERT_EQ(served.status, 200);
  EXPECT_EQ(parse(served).at("clinic").at("id"), 3);
  ASSERT_EQ(http_->request("DELETE", "/billing/addons/api_access", "", lakeside.headers()).status / 100, 2);
  auto off = api(secret);
  EXPECT_EQ(off.status, 403);
  EXPECT_EQ(code(off), "api_access_not_enabled");
  EXPECT_EQ(parse(admin_get(lakeside, kKeys)).at("keys").as_array().size(), 1u);  // kept
  EXPECT_EQ(code(admin_post(lakeside, kKeys, R"({"label":"y"})")), "api_access_not_enabled");
  ASSERT_EQ(http_->post("/billing/addons/api_access", "", lakeside.headers()).status / 100, 2);
  EXPECT_EQ(api(secret).status, 200);
}

TEST_P(HttpTest, StaffLoggedOutAndOtherClinicsAreRefused) {
  const auto owner = login(kOwner);
  auto [id, secret] = create(owner);
  const std::string one = std::string(kKeys) + "/" + std::to_string(id);
  const auto staff = login(kStaff);
  for (const auto& [m, path] : std::vector<std::pair<std::string, std::string>>{
           {"GET", kKeys}, {"POST", kKeys}, {"POST", one + "/revoke"}, {"POST", one + "/rotate"},
           {"GET", "/plugins/api-access/events"}, {"GET", one + "/usage"}}) {
    auto s = http_->request(m, path, m == "POST" ? R"({"label":"x"})" : "", staff.headers());
    EXPECT_EQ(s.status, 403) << m << " " << path;
    auto anon = http_->request(m, path, m == "POST" ? R"({"label":"x"})" : "");
    EXPECT_EQ(anon.status, 401) << m << " " << path;
  }
  const auto lakeside = login(kLakeside);
  EXPECT_EQ(code(admin_post(lakeside, one + "/revoke")), "key_not_found");
  EXPECT_EQ(code(admin_post(lakeside, one + "/rotate")), "key_not_found");
  EXPECT_EQ(code(admin_get(lakeside, one + "/usage")), "key_not_found");
  EXPECT_TRUE(parse(admin_get(lakeside, kKeys)).at("keys").as_array().empty());
  EXPECT_TRUE(parse(admin_get(lakeside, "/plugins/api-access/events")).at("events").as_array().empty());
  // Each key is served its own clinic's data only.
  auto [lid, lsecret] = create(lakeside);
  auto mine = parse(api(secret)), theirs = parse(api(lsecret));
  EXPECT_EQ(mine.at("clinic").at("id"), 1);
  EXPECT_EQ(theirs.at("clinic").at("id"), 3);
  EXPECT_NE(json::serialize(mine.at("patients")), json::serialize(theirs.at("patients")));
  EXPECT_EQ(api(secret).status, 200);  // untouched by the other clinic's attempts
}

TEST_P(HttpTest, UsageIsExactAfterMixedRequestsAndAGracefulRestart) {
  const auto owner = login(kOwner);
  auto [id, secret] = create(owner);
  for (int i = 0; i < 9; ++i) ASSERT_EQ(api(secret).status, 200);
  for (int i = 0; i < 4; ++i)  // 403 insufficient_scope
    http_->post("/api/v1/appointments", "{}", {{"Authorization", "Bearer " + secret}});
  auto u = usage(owner, id, 1);
  EXPECT_EQ(u.at("requests"), 13);
  EXPECT_EQ(u.at("days").at(0).at("client_errors"), 4);
  EXPECT_DOUBLE_EQ(u.at("error_rate").as_double(), 4.0 / 13.0);

  for (int i = 0; i < 5; ++i) ASSERT_EQ(api(secret).status, 200);  // counted, not yet flushed
  restart();
  const auto again = login(kOwner);
  auto after = usage(again, id, 1);
  EXPECT_EQ(after.at("requests"), 18);
  EXPECT_EQ(api(secret).status, 200);  // the key still works after the restart: 19 today
  advance(86400);  // the next UTC day (the browser session has ended meanwhile: log in again)
  EXPECT_EQ(api(secret).status, 200);
  const auto next_day = login(kOwner);
  auto two_days = usage(next_day, id, 2);
  EXPECT_EQ(two_days.at("days").at(0).at("requests"), 19);
  EXPECT_EQ(two_days.at("days").at(1).at("requests"), 1);
  EXPECT_EQ(two_days.at("requests"), 20);
  EXPECT_NE(parse(admin_get(next_day, kKeys)).at("keys").at(0).at("last_used_at"), nullptr);
}

// --clinic-time-zone gives a clinic its IANA zone; the plugin counts usage in that clinic's days
// and reads an expiry date as the end of that day there. At 12:00 UTC it is already tomorrow in
// Auckland (UTC+12 or +13).
TEST_P(HttpTest, AClinicsTimeZoneSetsItsDaysAndExpiryDates) {
  DevhostOptions o = devhost_->options();
  ASSERT_EQ(devhost_->stop(), 0) << devhost_->stderr_text();
  o.extra_args = {"--clinic-time-zone", "1=Pacific/Auckland"};
  devhost_ = std::make_unique<DevhostProcess>(o);
  devhost_->start();
  connect();
  const auto zone = ClinicZone::find("Pacific/Auckland");
  ASSERT_TRUE(zone);
  const Micros start = clock_now();
  const Micros into_day = ((start % kMicrosPerDay) + kMicrosPerDay) % kMicrosPerDay;
  advance(((12 * 3600 * kMicrosPerSecond - into_day + kMicrosPerDay) % kMicrosPerDay) / kMicrosPerSecond);
  const Micros now = clock_now();
  ASSERT_EQ(zone->day_of(now), day_of(now) + 1);

  const auto owner = login(kOwner);
  auto [id, secret] = create(owner);
  EXPECT_EQ(api(secret).status, 200);
  auto u = usage(owner, id, 2);
  EXPECT_EQ(u.at("days").at(1).at("date"), json::value(format_date(day_of(now) + 1)));  // Auckland's today
  EXPECT_EQ(u.at("days").at(1).at("requests"), 1);

  const DayNumber last = zone->day_of(now) + 10;
  auto r = admin_post(owner, kKeys, R"({"label":"x","expires_at":")" + format_date(last) + "\"}");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(parse(r).at("key").at("expires_at"), json::value(format_rfc3339(zone->start_of_day(last + 1))));
  // Lakeside keeps UTC.
  const auto lakeside = login(kLakeside);
  r = admin_post(lakeside, kKeys, R"({"label":"x","expires_at":")" + format_date(last) + "\"}");
  EXPECT_EQ(parse(r).at("key").at("expires_at"), json::value(format_date(last + 1) + "T00:00:00Z"));

  // A zone the system does not know is refused at start, in one line.
  auto bad = DevhostProcess::run_to_exit({"--listen", "127.0.0.1:0", "--clinic-time-zone", "1=Mars/Olympus"});
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
  EXPECT_NE(bad.err.find("not a time zone"), std::string::npos) << bad.err;
}

INSTANTIATE_TEST_SUITE_P(Dialects, HttpTest, ::testing::Values("SQLite", "PostgreSQL"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace mdp::api_access::http_test
