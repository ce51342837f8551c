// The admin routes (routes/admin_routes.hpp), called as the host calls them after its own
// session, permission and CSRF checks (those are tested over HTTP in http_*.cpp).
#include <algorithm>
#include <cctype>
#include <fstream>
#include <set>
#include <sstream>

#include <soci/soci.h>

#include "keys/key_format.hpp"
#include "util/time_format.hpp"
#include "plugin_test_host.hpp"

namespace mdp::api_access::test {
namespace {

namespace json = boost::json;

class RoutesTest : public PluginTest {};

TEST_P(RoutesTest, RegistersExactlyTheDocumentedRoutes) {
  std::set<std::string> got;
  for (const auto& r : reg_->routes) {
    got.insert(r.method + " " + r.pattern);
    // Open to anyone: the error catalogue, which error bodies link to, the OpenAPI document, and
    // the leak report (holding a key is the right to revoke it).
    const bool open = r.pattern == "errors" || r.pattern == "openapi.json" || r.pattern == "leaked-keys";
    EXPECT_EQ(r.permission, open ? "public" : "api_keys.manage") << r.pattern;
    EXPECT_FALSE(r.summary.empty());
  }
  EXPECT_EQ(got, (std::set<std::string>{"GET keys", "POST keys", "PATCH keys/{id}", "POST keys/{id}/revoke",
                                        "POST keys/{id}/rotate", "GET events",
                                        "GET keys/{id}/usage", "GET errors", "GET keys/{id}/disclosures",
                                        "GET patients/{id}/disclosures", "POST keys/{id}/rotation/finish",
                                        "POST keys/{id}/rotation/cancel", "GET openapi.json", "POST leaked-keys"}));
  ASSERT_EQ(reg_->features.size(), 1u);
  EXPECT_EQ(reg_->features[0].id, "api_access");
  EXPECT_EQ(reg_->features[0].label, "API access");
  EXPECT_EQ(reg_->features[0].tiers, std::vector<std::string>{"enterprise"});
  EXPECT_EQ(reg_->features[0].addon, "api_access");
}

// The served document is docs/openapi.json as checked in, and it has an operation for exactly
// the routes the plugin registers, with the security the host applies to each.
TEST_P(RoutesTest, OpenApiDocumentDescribesEveryRoute) {
  // A public route: called as the host calls it, with no user (call() is for admin routes).
  host::Response r;
  for (const auto& route : reg_->routes)
    if (route.method == "GET" && route.pattern == "openapi.json") r = route.handler(host::RouteRequest{});
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "application/json");
  std::ifstream in(std::string(MDP_SOURCE_DIR) + "/docs/openapi.json", std::ios::binary);
  std::ostringstream file;
  file << in.rdbuf();
  EXPECT_TRUE(r.body == file.str()) << "the served document is not docs/openapi.json";
  const json::value doc = json::parse(r.body);
  EXPECT_EQ(doc.at("openapi"), "3.1.0");
  std::ifstream manifest(std::string(MDP_SOURCE_DIR) + "/manifest.json", std::ios::binary);
  std::ostringstream manifest_text;
  manifest_text << manifest.rdbuf();
  EXPECT_EQ(doc.at("info").at("version"), json::parse(manifest_text.str()).at("version"))
      << "docs/openapi.json's info.version is not the plugin's version";
  std::set<std::string> registered, documented;
  const std::string mount = "/plugins/api-access/";
  for (const auto& route : reg_->routes) {
    registered.insert(route.method + " " + mount + route.pattern);
    std::string method = route.method;
    std::transform(method.begin(), method.end(), method.begin(), [](unsigned char c) { return std::tolower(c); });
    const auto& op = doc.at("paths").at(mount + route.pattern).at(method).as_object();
    const auto& security = op.at("security").as_array();
    if (route.permission == "public") {
      EXPECT_TRUE(security.empty()) << route.pattern;
    } else {
      ASSERT_EQ(security.size(), 1u) << route.pattern;
      EXPECT_TRUE(security[0].as_object().contains("hostSession")) << route.pattern;
      EXPECT_EQ(security[0].as_object().contains("csrfToken"), route.method != "GET") << route.pattern;
    }
  }
  for (const auto& [path, item] : doc.at("paths").as_object()) {
    if (path.substr(0, mount.size()) != mount) continue;
    for (const auto& [method, op] : item.as_object()) {
      std::string m(method);
      std::transform(m.begin(), m.end(), m.begin(), [](unsigned char c) { return std::toupper(c); });
      documented.insert(m + " " + std::string(path));
    }
  }
  EXPECT_EQ(documented, registered);
}

TEST_P(RoutesTest, CreateReturnsTheSecretOnceAndListShowsOnlyThePreview) {
  auto r = call("POST", "keys", R"({"label":"Power BI sync","scopes":["read"]})");
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string secret(r.json.at("secret").as_string());
  EXPECT_TRUE(matches_grammar(secret));
  const auto& key = r.json.at("key").as_object();
  EXPECT_EQ(key.at("label"), "Power BI sync");
  EXPECT_EQ(key.at("preview"), json::value(std::string("mdp_\xE2\x80\xA6") + secret.substr(secret.size() - 4)));
  EXPECT_EQ(key.at("status"), "active");
  EXPECT_EQ(key.at("created_at"), "2026-11-26T09:30:00Z");
  EXPECT_EQ(key.at("created_by").at("name"), "Olivia Hart");
  EXPECT_EQ(key.at("created_by").at("id"), 11);
  for (const char* null_field : {"last_used_at", "expires_at", "revoked_at", "revoked_by", "rotated_from"})
    EXPECT_TRUE(key.at(null_field).is_null()) << null_field;
  EXPECT_EQ(key.at("scopes"), json::array{"read"});

  auto list = call("GET", "keys");
  ASSERT_EQ(list.status, 200);
  ASSERT_EQ(list.json.at("keys").as_array().size(), 1u);
  // The list adds what only it reports: a rotation waiting to finish itself and the least
  // privilege mark (neither here).
  json::object listed = list.json.at("keys").at(0).as_object();
  EXPECT_TRUE(listed.at("auto_rotation").is_null());
  EXPECT_TRUE(listed.at("least_privilege").is_null());
  listed.erase("auto_rotation");
  listed.erase("least_privilege");
  EXPECT_EQ(listed, key);
  EXPECT_EQ(list.body.find(secret.substr(4, 20)), std::string::npos);
  EXPECT_EQ(list.json.as_object().if_contains("secret"), nullptr);
}

TEST_P(RoutesTest, ScopesDefaultToReadAndAreValidated) {
  auto r = call("POST", "keys", R"({"label":"x"})");
  ASSERT_EQ(r.status, 201);
  EXPECT_EQ(r.json.at("key").at("scopes"), json::array{"read"});
  r = call("POST", "keys", R"({"label":"x","scopes":["appointments:write","patients:write","appointments:write"]})");
  ASSERT_EQ(r.status, 201);
  EXPECT_EQ(r.json.at("key").at("scopes"), (json::array{"appointments:write", "patients:write"}));
  EXPECT_EQ(call("POST", "keys", R"({"label":"x","scopes":[]})").error_code(), "missing_scope");
  auto unknown = call("POST", "keys", R"({"label":"x","scopes":["read","admin"]})");
  EXPECT_EQ(unknown.status, 400);
  EXPECT_EQ(unknown.error_code(), "unknown_scope");
  EXPECT_EQ(call("POST", "keys", R"({"label":"x","scopes":"read"})").error_code(), "invalid_json");
  EXPECT_EQ(call("POST", "keys", R"({"label":"x","scopes":[1]})").error_code(), "invalid_json");
}

TEST_P(RoutesTest, LabelsAreValidatedAndStoredExactly) {
  EXPECT_EQ(call("POST", "keys", R"({"label":""})").error_code(), "invalid_label");
  EXPECT_EQ(call("POST", "keys", R"({"label":"   "})").error_code(), "invalid_label");
  EXPECT_EQ(call("POST", "keys", R"({"scopes":["read"]})").error_code(), "invalid_label");
  EXPECT_EQ(call("POST", "keys", R"({"label":42})").error_code(), "invalid_label");
  EXPECT_EQ(call("POST", "keys", json::serialize(json::object{{"label", std::string(101, 'x')}})).error_code(),
            "invalid_label");
  EXPECT_EQ(call("POST", "keys", json::serialize(json::object{{"label", std::string(100, 'x')}})).status, 201);
  // 100 code points of 4 bytes each: 400 bytes, still 100 characters.
  std::string emoji;
  for (int i = 0; i < 100; ++i) emoji += "\xF0\x9F\xA6\xB7";  // U+1F9B7 TOOTH
  EXPECT_EQ(call("POST", "keys", json::serialize(json::object{{"label", emoji}})).status, 201);
  EXPECT_EQ(call("POST", "keys", json::serialize(json::object{{"label", emoji + "x"}})).error_code(),
            "invalid_label");
  EXPECT_EQ(call("POST", "keys", R"({"label":"a\u0000b"})").error_code(), "invalid_label");
  EXPECT_EQ(call("POST", "keys", R"({"label":"\ud800"})").status, 400);  // lone surrogate
  EXPECT_EQ(call("POST", "keys", R"({"label":"\ud83e\uddb7 \u00e9"})").status, 201);  // escaped tooth + é
  const std::string hostile = "<script>alert(1)</script> \"quoted\" '; DROP TABLE api_access_keys; --";
  auto r = call("POST", "keys", json::serialize(json::object{{"label", hostile}}));
  ASSERT_EQ(r.status, 201);
  auto list = call("GET", "keys");
  bool found = false;
  for (const auto& k : list.json.at("keys").as_array()) found |= k.at("label") == json::value(hostile);
  EXPECT_TRUE(found);
}

TEST_P(RoutesTest, MalformedBodiesAreInvalidJson) {
  for (const char* body : {"", "{", "[]", "\"label\"", "null", "{\"label\":\"x\"} trailing", "\xff\xfe"}) {
    auto r = call("POST", "keys", body);
    EXPECT_EQ(r.status, 400) << body;
    EXPECT_EQ(r.error_code(), "invalid_json") << body;
  }
}

TEST_P(RoutesTest, ExpiryMustBeAFutureRfc3339Time) {
  EXPECT_EQ(call("POST", "keys", R"({"label":"x","expires_at":"2026-11-26T09:29:59Z"})").error_code(), "invalid_expiry");
  EXPECT_EQ(call("POST", "keys", R"({"label":"x","expires_at":"2026-11-26T09:30:00Z"})").error_code(), "invalid_expiry");
  EXPECT_EQ(call("POST", "keys", R"({"label":"x","expires_at":"next week"})").error_code(), "invalid_expiry");
  EXPECT_EQ(call("POST", "keys", R"({"label":"x","expires_at":12345})").error_code(), "invalid_expiry");
  auto r = call("POST", "keys", R"({"label":"x","expires_at":"2026-12-01T10:00:00+01:00"})");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.json.at("key").at("expires_at"), "2026-12-01T09:00:00Z");
  EXPECT_EQ(call("POST", "keys", R"({"label":"x","expires_at":null})").status, 201);
}

// A calendar date means "through that day" in the clinic's time zone: the key expires when the
// clinic's next day begins (UTC for a clinic without a zone).
TEST_P(RoutesTest, ExpiryDateWorksThroughThatDayInTheClinicsTimeZone) {
  auto r = call("POST", "keys", R"({"label":"x","expires_at":"2026-12-26"})");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.json.at("key").at("expires_at"), "2026-12-27T00:00:00Z");
  host_->dir.clinics[kClinicB].time_zone = "Europe/Berlin";  // UTC+1 in winter, UTC+2 in summer
  r = call("POST", "keys", R"({"label":"x","expires_at":"2026-12-26"})", admin_b());
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.json.at("key").at("expires_at"), "2026-12-26T23:00:00Z");
  r = call("POST", "keys", R"({"label":"x","expires_at":"2027-07-01"})", admin_b());
  EXPECT_EQ(r.json.at("key").at("expires_at"), "2027-07-01T22:00:00Z");
  // Today still works (until tonight); yesterday, impossible dates and far years do not.
  EXPECT_EQ(call("POST", "keys", R"({"label":"x","expires_at":"2026-11-26"})").json.at("key").at("expires_at"),
            "2026-11-27T00:00:00Z");
  for (const char* bad : {"2026-11-25", "2026-02-30", "2026-13-01", "26-11-2026", "2026-11-26 ", "9999-12-31", "1969-12-31"})
    EXPECT_EQ(call("POST", "keys", std::string(R"({"label":"x","expires_at":")") + bad + "\"}").error_code(), "invalid_expiry")
        << bad;
}

// The grace is measured from the rotation as recorded: exactly 3,600 s for an hour, also when
// the clock is between two seconds.
TEST_P(RoutesTest, OneHourGraceIsExactly3600Seconds) {
  auto [old_id, old_secret] = create_key();
  host_->clock_.advance(std::chrono::milliseconds(999));
  auto r = call("POST", "keys/" + std::to_string(old_id) + "/rotate", R"({"grace_seconds":3600})");
  ASSERT_EQ(r.status, 201) << r.body;
  const auto rotated_at = parse_rfc3339(std::string(r.json.at("key").at("created_at").as_string()));
  const auto old_expires = parse_rfc3339(std::string(r.json.at("rotated_key").at("expires_at").as_string()));
  ASSERT_TRUE(rotated_at && old_expires);
  EXPECT_EQ(*old_expires - *rotated_at, 3600 * kMicrosPerSecond);
  EXPECT_EQ(r.json.at("rotated_key").at("expires_at"), "2026-11-26T10:30:00Z");
}

TEST_P(RoutesTest, RevokeIsInstantIdempotentAndFinal) {
  auto [id, secret] = create_key();
  EXPECT_TRUE(decide_key(secret).allowed);
  const std::string path = "keys/" + std::to_string(id) + "/revoke";
  auto r = call("POST", path);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json.at("key").at("status"), "revoked");
  EXPECT_EQ(r.json.at("key").at("revoked_at"), "2026-11-26T09:30:00Z");
  EXPECT_EQ(r.json.at("key").at("revoked_by").at("name"), "Olivia Hart");
  const auto d = decide_key(secret);  // the very next request
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.status, 401);
  advance(std::chrono::seconds(10));
  auto again = call("POST", path);
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(again.json.at("key"), r.json.at("key"));
  auto events = call("GET", "events").json.at("events").as_array();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].at("type"), "revoked");
  EXPECT_EQ(events[0].at("actor").at("name"), "Olivia Hart");
  EXPECT_EQ(events[1].at("type"), "created");
}

TEST_P(RoutesTest, UnknownOrForeignKeyIdsAre404) {
  auto [id, secret] = create_key();
  for (const std::string& bad : {std::string("999999"), std::string("abc"), std::string("-1"),
                                 std::string("0"), std::string("1e3"), std::string("99999999999999999999999")}) {
    EXPECT_EQ(call("POST", "keys/" + bad + "/revoke").error_code(), "key_not_found") << bad;
    EXPECT_EQ(call("POST", "keys/" + bad + "/rotate").error_code(), "key_not_found") << bad;
    EXPECT_EQ(call("GET", "keys/" + bad + "/usage").error_code(), "key_not_found") << bad;
  }
  const std::string own = std::to_string(id);
  auto r = call("POST", "keys/" + own + "/revoke", "", admin_b());
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.error_code(), "key_not_found");
  EXPECT_EQ(call("POST", "keys/" + own + "/rotate", "", admin_b()).status, 404);
  EXPECT_EQ(call("GET", "keys/" + own + "/usage", "", admin_b()).status, 404);
  EXPECT_TRUE(call("GET", "keys", "", admin_b()).json.at("keys").as_array().empty());
  EXPECT_TRUE(call("GET", "events", "", admin_b()).json.at("events").as_array().empty());
  EXPECT_TRUE(decide_key(secret).allowed);  // untouched
}

TEST_P(RoutesTest, RotateWithoutGraceKeepsTheOldKeyUntilRevoked) {
  auto [old_id, old_secret] = create_key("Website widget", R"(["read","appointments:write"])");
  auto r = call("POST", "keys/" + std::to_string(old_id) + "/rotate");
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string new_secret(r.json.at("secret").as_string());
  EXPECT_NE(new_secret, old_secret);
  EXPECT_EQ(r.json.at("key").at("label"), "Website widget");
  EXPECT_EQ(r.json.at("key").at("scopes"), (json::array{"read", "appointments:write"}));
  EXPECT_EQ(r.json.at("key").at("rotated_from"), old_id);
  EXPECT_TRUE(r.json.at("rotated_key").at("expires_at").is_null());
  advance(std::chrono::hours(24 * 400));
  EXPECT_TRUE(decide_key(old_secret).allowed);
  EXPECT_TRUE(decide_key(new_secret).allowed);
  call("POST", "keys/" + std::to_string(old_id) + "/revoke");
  EXPECT_EQ(decide_key(old_secret).status, 401);
  EXPECT_TRUE(decide_key(new_secret).allowed);
  auto events = call("GET", "events").json.at("events").as_array();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[1].at("type"), "rotated");
  EXPECT_EQ(events[1].at("key_id"), r.json.at("key").at("id"));
  EXPECT_EQ(events[1].at("rotated_from"), old_id);
}

TEST_P(RoutesTest, RotateWithGraceExpiresTheOldKeyLater) {
  auto [old_id, old_secret] = create_key();
  auto r = call("POST", "keys/" + std::to_string(old_id) + "/rotate", R"({"grace_seconds":3600})");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.json.at("rotated_key").at("expires_at"), "2026-11-26T10:30:00Z");
  EXPECT_EQ(r.json.at("rotated_key").at("status"), "active");
  advance(std::chrono::seconds(3599));
  EXPECT_TRUE(decide_key(old_secret).allowed);
  advance(std::chrono::seconds(1));
  const auto d = decide_key(old_secret);
  EXPECT_EQ(d.status, 401);
  EXPECT_NE(d.body.find("expired_api_key"), std::string::npos);
  auto keys = call("GET", "keys").json.at("keys").as_array();
  EXPECT_EQ(keys[1].at("status"), "expired");
  auto events = call("GET", "events").json.at("events").as_array();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].at("type"), "expired");
  EXPECT_TRUE(events[0].at("actor").is_null());
  EXPECT_EQ(events[0].at("at"), "2026-11-26T10:30:00Z");
  // grace 0: expires at once.
  auto [k2, s2] = create_key();
  EXPECT_EQ(call("POST", "keys/" + std::to_string(k2) + "/rotate", R"({"grace_seconds":0})").status, 201);
  EXPECT_EQ(decide_key(s2).status, 401);
}

TEST_P(RoutesTest, GraceSecondsIsValidated) {
  auto [id, secret] = create_key();
  const std::string path = "keys/" + std::to_string(id) + "/rotate";
  for (const char* body : {R"({"grace_seconds":-1})", R"({"grace_seconds":1.5})",
                           R"({"grace_seconds":"60"})", R"({"grace_seconds":99999999999})",
                           R"({"grace_seconds":true})"})
    EXPECT_EQ(call("POST", path, body).error_code(), "invalid_grace_seconds") << body;
  EXPECT_EQ(call("POST", path, "[1]").error_code(), "invalid_json");
  EXPECT_EQ(call("POST", path, "{}").status, 201);
}

TEST_P(RoutesTest, PlanWithoutApiAccessBlocksCreateAndRotateOnly) {
  auto [id, secret] = create_key();
  host_->subs.set(kClinicA, false);
  plugin_->on_subscription_changed(kClinicA);
  auto r = call("POST", "keys", R"({"label":"x"})");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.error_code(), "api_access_not_enabled");
  EXPECT_EQ(call("POST", "keys/" + std::to_string(id) + "/rotate").error_code(), "api_access_not_enabled");
  EXPECT_EQ(call("GET", "keys").json.at("keys").as_array().size(), 1u);  // kept, listed
  EXPECT_EQ(call("GET", "events").status, 200);
  EXPECT_EQ(call("GET", "keys/" + std::to_string(id) + "/usage").status, 200);
  EXPECT_EQ(decide_key(secret).status, 403);
  EXPECT_EQ(call("POST", "keys/" + std::to_string(id) + "/revoke").status, 200);
  EXPECT_EQ(call("POST", "keys", R"({"label":"x"})", admin_no_plan()).error_code(), "api_access_not_enabled");
}

TEST_P(RoutesTest, UsageDaysParameterIsValidated) {
  auto [id, secret] = create_key();
  const std::string base = "keys/" + std::to_string(id) + "/usage";
  for (const char* bad : {"0", "91", "-1", "abc", "", "30.5", "1e1", " 5", "999999999999"})
    EXPECT_EQ(call("GET", base + "?days=" + bad).error_code(), "invalid_days") << bad;
  auto r = call("GET", base);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.json.at("days").as_array().size(), 30u);
  EXPECT_EQ(call("GET", base + "?days=1").json.at("days").as_array().size(), 1u);
  EXPECT_EQ(call("GET", base + "?days=90").json.at("days").as_array().size(), 90u);
}

TEST_P(RoutesTest, HandlersAnswerJsonErrorsWhenTheDatabaseFails) {
  auto [id, secret] = create_key();
  {
    std::size_t token = 0;
    soci::session* s = host_->db->borrow(std::chrono::seconds(5), token);
    devhost::execute_script(*s, host_->dialect, "DROP TABLE api_access_usage_daily");
    host_->db->give_back(token);
  }
  // Any database error is "could not tell" (host_interface services.hpp): 503, never 500, and
  // the operator's log names the real cause.
  auto r = call("GET", "keys/" + std::to_string(id) + "/usage");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.error_code(), "database_unavailable");
  EXPECT_TRUE(host_->log_.mentions("api_access_usage_daily"));
}

INSTANTIATE_TEST_SUITE_P(Dialects, RoutesTest,
                         ::testing::Values(host::Dialect::sqlite, host::Dialect::postgresql),
                         param_name);

}  // namespace
}  // namespace mdp::api_access::test
