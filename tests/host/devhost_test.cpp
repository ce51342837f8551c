// The devhost over real HTTP, as a child process on a fresh SQLite file (and on PostgreSQL when
// MDP_TEST_PG is set): login, CSRF, roles, the Billing Features card and addon purchase, the
// public API's refusal without a key, the bounds on headers and bodies, the test clock and a
// graceful restart on the same database.
#include <atomic>
#include <thread>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "support/devhost_process.hpp"
#include "support/http_client.hpp"
#include "support/postgres_env.hpp"
#include "support/temp_dir.hpp"

namespace {

namespace json = boost::json;
using mdp::test::DevhostOptions;
using mdp::test::DevhostProcess;
using mdp::test::HttpClient;
using mdp::test::HttpResult;
using mdp::test::LoginSession;
using mdp::test::TempDir;

json::value body_json(const HttpResult& r) {
  json::error_code ec;
  json::value v = json::parse(r.body, ec);
  if (ec) ADD_FAILURE() << "not JSON: " << r.body;
  return v;
}

std::string error_code(const HttpResult& r) {
  json::value v = body_json(r);
  if (!v.is_object() || !v.as_object().contains("error")) return "<no error object: " + r.body + ">";
  return std::string(v.at("error").at("code").as_string());
}

LoginSession must_login(HttpClient& c, const std::string& email) {
  auto s = mdp::test::login(c, email);
  if (!s) throw std::runtime_error("login failed for " + email);
  return *s;
}

// {enabled, source} of api_access from GET /billing/features.
std::pair<bool, std::string> api_access(HttpClient& c, const LoginSession& s) {
  HttpResult r = c.get("/billing/features", s.headers(false));
  EXPECT_EQ(r.status, 200) << r.body;
  json::value v = body_json(r);  // keep it alive for the loop
  if (!v.is_object() || !v.as_object().contains("features")) return {false, "missing"};
  for (const auto& f : v.at("features").as_array()) {
    if (f.at("id") != "api_access") continue;
    EXPECT_EQ(f.at("label"), "API access");
    std::string source = f.at("source").is_null() ? "null" : std::string(f.at("source").as_string());
    return {f.at("enabled").as_bool(), source};
  }
  ADD_FAILURE() << "no api_access feature in " << r.body;
  return {false, "missing"};
}

// "Included" or "Locked": the badge in the API access row of the Billing page's Features card.
std::string billing_row_badge(HttpClient& c, const LoginSession& s) {
  HttpResult r = c.get("/settings/billing", s.headers(false));
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.header("Content-Type").find("text/html"), std::string::npos);
  auto row = r.body.find("feature-api_access");
  if (row == std::string::npos) return "<no API access row>";
  std::string tail = r.body.substr(row, 2000);
  auto inc = tail.find("Included"), lock = tail.find("Locked");
  if (inc != std::string::npos && (lock == std::string::npos || inc < lock)) return "Included";
  if (lock != std::string::npos) return "Locked";
  return "<no badge>";
}

// The addon purchase story, shared by the SQLite and PostgreSQL runs.
void billing_flow(HttpClient& c) {
  LoginSession bright = must_login(c, "owner@brightsmiles.test");
  LoginSession downtown = must_login(c, "admin@downtown.test");
  LoginSession lakeside = must_login(c, "admin@lakeside.test");
  LoginSession staff = must_login(c, "frontdesk@brightsmiles.test");

  EXPECT_EQ(api_access(c, bright), std::make_pair(true, std::string("tier")));
  EXPECT_EQ(api_access(c, downtown), std::make_pair(false, std::string("null")));
  EXPECT_EQ(api_access(c, lakeside), std::make_pair(true, std::string("addon")));
  EXPECT_EQ(billing_row_badge(c, bright), "Included");
  EXPECT_EQ(billing_row_badge(c, downtown), "Locked");
  EXPECT_EQ(billing_row_badge(c, lakeside), "Included");

  // Staff cannot buy, even with a valid CSRF token; nothing changes.
  HttpResult r = c.post("/billing/addons/api_access", "", staff.headers());
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(error_code(r), "forbidden");
  // An admin without the CSRF token is refused before anything happens.
  r = c.post("/billing/addons/api_access", "", downtown.headers(false));
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(error_code(r), "csrf_token_invalid");
  EXPECT_EQ(api_access(c, downtown).first, false);

  // Buy: effective at once, on the JSON and on the page.
  r = c.post("/billing/addons/api_access", "", downtown.headers());
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(api_access(c, downtown), std::make_pair(true, std::string("addon")));
  EXPECT_EQ(billing_row_badge(c, downtown), "Included");
  // Buying twice changes nothing.
  EXPECT_EQ(c.post("/billing/addons/api_access", "", downtown.headers()).status, 200);
  // Cancel.
  r = c.request("DELETE", "/billing/addons/api_access", "", downtown.headers());
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(api_access(c, downtown), std::make_pair(false, std::string("null")));
  EXPECT_EQ(billing_row_badge(c, downtown), "Locked");
  // Cancelling the addon of an Enterprise clinic leaves the tier's inclusion.
  EXPECT_EQ(c.request("DELETE", "/billing/addons/api_access", "", bright.headers()).status, 200);
  EXPECT_EQ(api_access(c, bright), std::make_pair(true, std::string("tier")));
  // Other clinics were not touched.
  EXPECT_EQ(api_access(c, lakeside), std::make_pair(true, std::string("addon")));
  // Unknown addon.
  r = c.post("/billing/addons/teeth_whitening", "", downtown.headers());
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(error_code(r), "addon_not_found");
}

class DevhostHttp : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    DevhostOptions o;
    o.database = mdp::test::sqlite_database(*dir_);
    host_ = new DevhostProcess(o);
    host_->start();
  }
  static void TearDownTestSuite() {
    // A graceful stop after all of the above, with nothing the sanitizers (asan build) complain of.
    EXPECT_EQ(host_->stop(), 0) << host_->stderr_text();
    std::string err = host_->stderr_text();
    EXPECT_EQ(err.find("Sanitizer"), std::string::npos) << err;
    EXPECT_EQ(err.find("runtime error"), std::string::npos) << err;
    delete host_;
    delete dir_;
  }
  HttpClient client() { return HttpClient("127.0.0.1", host_->port()); }
  static TempDir* dir_;
  static DevhostProcess* host_;
};
TempDir* DevhostHttp::dir_ = nullptr;
DevhostProcess* DevhostHttp::host_ = nullptr;

TEST_F(DevhostHttp, LoginSetsAStrictHttpOnlyCookieAndReturnsACsrfToken) {
  HttpClient c("127.0.0.1", host_->port());
  HttpResult r = c.post("/login", R"({"email":"owner@brightsmiles.test","password":"devpass"})");
  ASSERT_EQ(r.status, 200) << r.body;
  std::string cookie = r.header("Set-Cookie");
  EXPECT_EQ(cookie.rfind("mdp_session=", 0), 0u) << cookie;
  EXPECT_NE(cookie.find("HttpOnly"), std::string::npos);
  EXPECT_NE(cookie.find("SameSite=Strict"), std::string::npos);
  EXPECT_NE(cookie.find("Path=/"), std::string::npos);
  json::value v = body_json(r);
  EXPECT_GE(v.at("csrf_token").as_string().size(), 32u);
  EXPECT_EQ(v.at("user").at("name"), "Olivia Hart");
  EXPECT_EQ(v.at("user").at("clinic").at("name"), "Bright Smiles Dental");
  // E-mail is case-insensitive.
  EXPECT_TRUE(mdp::test::login(c, "Owner@BrightSmiles.test"));
}

TEST_F(DevhostHttp, WrongCredentialsAre401AndBadBodies400) {
  HttpClient c("127.0.0.1", host_->port());
  HttpResult r = c.post("/login", R"({"email":"owner@brightsmiles.test","password":"wrong"})");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(error_code(r), "invalid_credentials");
  EXPECT_EQ(r.header("Set-Cookie"), "");
  r = c.post("/login", R"({"email":"nobody@nowhere.test","password":"devpass"})");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(error_code(r), "invalid_credentials");
  r = c.post("/login", R"({"email": "owner@brightsmiles.test", )");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(error_code(r), "invalid_json");
  r = c.post("/login", R"({"email": 1, "password": []})");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(error_code(r), "invalid_request");
}

TEST_F(DevhostHttp, StateChangingRequestsNeedTheSessionsCsrfToken) {
  HttpClient c("127.0.0.1", host_->port());
  LoginSession s = must_login(c, "admin@lakeside.test");
  LoginSession other = must_login(c, "owner@brightsmiles.test");
  HttpResult r = c.post("/logout", "", s.headers(false));
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(error_code(r), "csrf_token_invalid");
  r = c.post("/logout", "", s.headers(false, {{"X-CSRF-Token", other.csrf_token}}));
  EXPECT_EQ(r.status, 403);
  r = c.post("/logout", "", s.headers(false, {{"X-CSRF-Token", ""}}));
  EXPECT_EQ(r.status, 403);
  // Still logged in; then a proper logout ends the session.
  EXPECT_EQ(c.get("/billing/features", s.headers(false)).status, 200);
  r = c.post("/logout", "", s.headers());
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.header("Set-Cookie").find("Max-Age=0"), std::string::npos);
  r = c.get("/billing/features", s.headers(false));
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(error_code(r), "not_authenticated");
}

TEST_F(DevhostHttp, WithoutSessionJsonIs401AndPagesRedirectToLogin) {
  HttpClient c("127.0.0.1", host_->port());
  HttpResult r = c.get("/billing/features");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(error_code(r), "not_authenticated");
  r = c.post("/billing/addons/api_access", "");
  EXPECT_EQ(r.status, 401);
  r = c.get("/plugins/api-access/keys");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(error_code(r), "not_authenticated");
  r = c.get("/settings/billing");
  EXPECT_EQ(r.status, 302);
  EXPECT_EQ(r.header("Location"), "/login?next=/settings/billing");
  r = c.get("/settings/billing", {{"Cookie", "mdp_session=forged"}});
  EXPECT_EQ(r.status, 302);
  r = c.get("/login");
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.header("Content-Type").find("text/html"), std::string::npos);
}

TEST_F(DevhostHttp, PluginRoutesAreMountedAndGuarded) {
  HttpClient c("127.0.0.1", host_->port());
  LoginSession admin = must_login(c, "owner@brightsmiles.test");
  LoginSession staff = must_login(c, "frontdesk@brightsmiles.test");
  HttpResult r = c.get("/plugins/api-access/keys", admin.headers(false));
  EXPECT_EQ(r.status, 200) << r.body;
  r = c.get("/plugins/api-access/keys", staff.headers(false));
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(error_code(r), "forbidden");
  r = c.post("/plugins/api-access/keys", R"({"label":"x","scopes":["read"]})", admin.headers(false));
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(error_code(r), "csrf_token_invalid");
  r = c.get("/plugins/api-access/no/such/route", admin.headers(false));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(error_code(r), "not_found");
  r = c.get("/plugins/no-such-plugin/keys", admin.headers(false));
  EXPECT_EQ(r.status, 404);
  // The plugin's settings page: admins see it, staff get 403.
  r = c.get("/settings/integrations/api-keys", admin.headers(false));
  EXPECT_EQ(r.status, 200);
  r = c.get("/settings/integrations/api-keys", staff.headers(false));
  EXPECT_EQ(r.status, 403);
  // Staff don't see the page in the navigation.
  r = c.get("/settings/billing", staff.headers(false));
  EXPECT_EQ(r.body.find("/settings/integrations/api-keys"), std::string::npos);
  r = c.get("/settings/billing", admin.headers(false));
  EXPECT_NE(r.body.find("/settings/integrations/api-keys"), std::string::npos);
}

TEST_F(DevhostHttp, BuyingAndCancellingTheAddonFlipsTheFeaturesCard) {
  HttpClient c("127.0.0.1", host_->port());
  billing_flow(c);
}

TEST_F(DevhostHttp, PublicApiRefusesRequestsWithoutAKey) {
  HttpClient c("127.0.0.1", host_->port());
  for (const char* target : {"/api/v1/patients", "/api/v1/appointments"}) {
    HttpResult r = c.get(target);
    EXPECT_EQ(r.status, 401) << target << ": " << r.body;
    EXPECT_FALSE(error_code(r).empty());
    EXPECT_EQ(r.header("WWW-Authenticate"), "Bearer");
    EXPECT_EQ(r.body.find("patients\""), std::string::npos);
  }
  HttpResult r = c.post("/api/v1/appointments", R"({"patient_id":1,"starts_at":"2026-12-01T09:00:00Z"})");
  EXPECT_EQ(r.status, 401);
  // A session cookie is no API key.
  LoginSession admin = must_login(c, "owner@brightsmiles.test");
  r = c.get("/api/v1/patients", admin.headers());
  EXPECT_EQ(r.status, 401);
  // Unknown API paths are 404 (no hook involved), known paths with another method 405.
  r = c.get("/api/v1/nothing");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(error_code(r), "not_found");
  r = c.request("DELETE", "/api/v1/patients");
  EXPECT_EQ(r.status, 405);
}

TEST_F(DevhostHttp, PublicApiServesTheKeysClinicOnly) {
  HttpClient c("127.0.0.1", host_->port());
  LoginSession lakeside = must_login(c, "admin@lakeside.test");
  HttpResult r = c.post("/plugins/api-access/keys",
                        R"({"label":"Host test","scopes":["read","appointments:write"]})", lakeside.headers());
  ASSERT_EQ(r.status, 201) << r.body;
  std::string key(body_json(r).at("secret").as_string());
  mdp::test::Headers auth{{"Authorization", "Bearer " + key}};

  r = c.get("/api/v1/patients", auth);
  ASSERT_EQ(r.status, 200) << r.body;
  json::value v = body_json(r);
  EXPECT_EQ(v.at("clinic").at("id"), 3);
  EXPECT_EQ(v.at("clinic").at("name"), "Lakeside Family Dentistry");
  std::vector<std::string> last_names;
  for (const auto& p : v.at("patients").as_array()) last_names.emplace_back(p.at("last_name").as_string());
  EXPECT_EQ(last_names, (std::vector<std::string>{"Moore", "Taylor", "Clark"}));

  r = c.get("/api/v1/appointments", auth);
  ASSERT_EQ(r.status, 200);
  v = body_json(r);
  EXPECT_EQ(v.at("clinic").at("id"), 3);
  std::int64_t lakeside_patient = 0;
  for (const auto& a : v.at("appointments").as_array()) lakeside_patient = a.at("patient_id").as_int64();
  ASSERT_GT(lakeside_patient, 0);

  // Create: validated, and only for this clinic's patients (patient 1 is Bright Smiles').
  json::object appt{{"patient_id", lakeside_patient}, {"starts_at", "2026-12-10T10:00:00Z"}, {"reason", "Check"}};
  r = c.post("/api/v1/appointments", json::serialize(appt), auth);
  EXPECT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(body_json(r).at("appointment").at("reason"), "Check");
  r = c.post("/api/v1/appointments", R"({"patient_id":1,"starts_at":"2026-12-10T10:00:00Z"})", auth);
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(error_code(r), "patient_not_found");
  r = c.post("/api/v1/appointments", R"({"patient_id":1,"starts_at":"soon"})", auth);
  EXPECT_EQ(r.status, 400);
  r = c.post("/api/v1/appointments", R"({"patient_id":)", auth);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(error_code(r), "invalid_json");
  r = c.get("/api/v1/ping", auth);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(body_json(r).at("clinic").at("id"), 3);
}

TEST_F(DevhostHttp, ServesConcurrentClients) {
  // Several threads, each on its own kept-alive connection, interleaving sessions and pages.
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      try {
        HttpClient c("127.0.0.1", host_->port(), /*keep_alive=*/true);
        auto s = mdp::test::login(c, t % 2 ? "owner@brightsmiles.test" : "admin@lakeside.test");
        if (!s) return;
        for (int i = 0; i < 10; ++i) {
          if (c.get("/billing/features", s->headers(false)).status != 200) return;
          if (c.get("/demo/ping").status != 200) return;
        }
        ++ok;
      } catch (...) {
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), 6);
}

TEST_F(DevhostHttp, DemoPingNeedsNoAuthentication) {
  HttpClient c("127.0.0.1", host_->port(), /*keep_alive=*/true);
  for (int i = 0; i < 5; ++i) {  // several requests on one kept-alive connection
    HttpResult r = c.get("/demo/ping");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(body_json(r).at("clinic").at("name"), "Bright Smiles Dental");
  }
}

TEST_F(DevhostHttp, OversizedHeadersAre431AndBodies413AndGarbage400) {
  HttpClient c("127.0.0.1", host_->port());
  mdp::test::Headers big;
  for (int i = 0; i < 8; ++i) big.emplace_back("X-Big-" + std::to_string(i), std::string(4000, 'a'));
  HttpResult r = c.get("/api/v1/patients", big);
  EXPECT_EQ(r.status, 431);
  EXPECT_EQ(error_code(r), "headers_too_large");
  r = c.post("/login", std::string(2 * 1024 * 1024, 'x'));
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(error_code(r), "body_too_large");
  std::string raw = c.raw("THIS IS NOT HTTP\r\n\r\n");
  EXPECT_EQ(raw.rfind("HTTP/1.1 400", 0), 0u) << raw;
  r = c.get("/no/such/thing");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(error_code(r), "not_found");
  // The server is still fine.
  EXPECT_EQ(c.get("/demo/ping").status, 200);
}

TEST_F(DevhostHttp, TestClockMovesTime) {
  HttpClient c("127.0.0.1", host_->port());
  HttpResult r = c.post("/__test/clock", R"({"set":"2030-01-02T03:04:05Z"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(body_json(r).at("now"), "2030-01-02T03:04:05Z");
  r = c.post("/__test/clock", R"({"advance_seconds":86400})");
  EXPECT_EQ(body_json(r).at("now"), "2030-01-03T03:04:05Z");
  r = c.post("/__test/clock", R"({"set":"yesterday"})");
  EXPECT_EQ(r.status, 400);
  r = c.post("/__test/clock", R"({"advance_seconds":)");
  EXPECT_EQ(error_code(r), "invalid_json");
}

TEST(Devhost, TestClockIs404WithoutTheFlagAndApiIs503WithoutPlugins) {
  TempDir dir;
  std::filesystem::create_directories(dir / "no-plugins");
  DevhostOptions o;
  o.database = mdp::test::sqlite_database(dir);
  o.test_clock = false;
  o.plugins_dir = (dir / "no-plugins").string();
  DevhostProcess host(o);
  host.start();
  HttpClient c("127.0.0.1", host.port());
  HttpResult r = c.post("/__test/clock", R"({"advance_seconds":1})");
  EXPECT_EQ(r.status, 404);
  r = c.get("/api/v1/patients", {{"Authorization", "Bearer mdp_whatever"}});
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(error_code(r), "api_unavailable");
  EXPECT_EQ(host.stop(), 0);
}

TEST(Devhost, StopsGracefullyAndRestartsOnTheSameDatabase) {
  TempDir dir;
  DevhostOptions o;
  o.database = mdp::test::sqlite_database(dir);
  DevhostProcess host(o);
  host.start();
  {
    HttpClient c("127.0.0.1", host.port());
    LoginSession s = must_login(c, "admin@downtown.test");
    ASSERT_EQ(c.post("/billing/addons/api_access", "", s.headers()).status, 200);
  }
  EXPECT_EQ(host.stop(), 0) << host.stderr_text();
  host.start();  // same database: migrations and seed are not applied again
  HttpClient c("127.0.0.1", host.port());
  LoginSession s = must_login(c, "admin@downtown.test");
  EXPECT_EQ(api_access(c, s), std::make_pair(true, std::string("addon")));
  EXPECT_EQ(host.stop(), 0);
}

TEST(Devhost, DefaultsFindThePluginBundleBesideTheBinary) {
  // No --plugins and no --database: the bundle from <exe>/../plugins, a SQLite file in ./data.
  TempDir dir;
  DevhostOptions o;
  o.plugins_dir.clear();
  DevhostProcess host(o);
  host.start();
  HttpClient c("127.0.0.1", host.port());
  LoginSession s = must_login(c, "owner@brightsmiles.test");
  EXPECT_EQ(api_access(c, s), std::make_pair(true, std::string("tier")));
  EXPECT_NE(host.stderr_text().find("loaded plugin api-access"), std::string::npos);
  EXPECT_EQ(host.stop(), 0);
}

TEST(Devhost, BillingFlowOnPostgres) {
  MDP_PG_CONNINFO_OR_SKIP(pg);
  mdp::test::reset_pg_database(pg);
  DevhostOptions o;
  o.database = pg;
  DevhostProcess host(o);
  host.start();
  HttpClient c("127.0.0.1", host.port());
  billing_flow(c);
  EXPECT_EQ(host.stop(), 0);
  // Restart on the same PostgreSQL database: no duplicate seed, state kept.
  host.start();
  HttpClient c2("127.0.0.1", host.port());  // a new port after the restart
  LoginSession s = must_login(c2, "admin@lakeside.test");
  EXPECT_EQ(api_access(c2, s), std::make_pair(true, std::string("addon")));
  EXPECT_EQ(host.stop(), 0);
}

}  // namespace
