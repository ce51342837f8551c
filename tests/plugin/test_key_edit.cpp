// Editing a key after creation: PATCH keys/{id} (label, description, scope reduction, rate limit,
// allowed addresses), the same fields on create and through a rotation, the audit event each
// edit records, and the request hook enforcing an edit at once in this process and within the
// change feed's interval in another one. Plus the address filter's parsing and matching.
#include <chrono>
#include <thread>

#include <soci/soci.h>

#include "keys/key_attributes.hpp"
#include "plugin_context.hpp"
#include "plugin_test_host.hpp"

namespace mdp::api_access::test {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

class KeyEditTest : public PluginTest {
 protected:
  RouteResult patch(std::int64_t id, const std::string& body, const host::User& user = admin_a()) {
    return call("PATCH", "keys/" + std::to_string(id), body, user);
  }
  json::array events_of(std::int64_t id) {
    return call("GET", "events?key_id=" + std::to_string(id)).json.at("events").as_array();
  }
};

TEST_P(KeyEditTest, LabelAndDescriptionChangeAndOneEventSaysWhat) {
  auto [id, secret] = create_key("Power BI", R"(["read"])");
  auto r = patch(id, R"({"label":"Power BI, finance","description":"Monthly revenue report, owner: Sam"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json.at("key").at("label"), "Power BI, finance");
  EXPECT_EQ(r.json.at("key").at("description"), "Monthly revenue report, owner: Sam");
  EXPECT_EQ(call("GET", "keys").json.at("keys").at(0).at("label"), "Power BI, finance");
  auto events = events_of(id);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].at("type"), "updated");
  EXPECT_EQ(events[0].at("actor").at("name"), "Olivia Hart");
  EXPECT_EQ(events[0].at("detail"),
            "label: \"Power BI\" -> \"Power BI, finance\"; description changed");
  // The same values again change nothing and record nothing.
  ASSERT_EQ(patch(id, R"({"label":"Power BI, finance"})").status, 200);
  EXPECT_EQ(events_of(id).size(), 2u);
  EXPECT_TRUE(decide_key(secret).allowed);  // a label is not a rule
}

TEST_P(KeyEditTest, ScopesOnlyNarrowAndTheHookEnforcesTheNarrowingAtOnce) {
  auto [id, secret] = create_key("Booking widget", R"(["read","appointments:write"])");
  ASSERT_TRUE(decide_key(secret, "appointments:write").allowed);
  auto r = patch(id, R"({"scopes":["read"]})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json.at("key").at("scopes"), (json::array{"read"}));
  const auto d = decide_key(secret, "appointments:write");  // the very next request
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.status, 403);
  EXPECT_EQ(code_of(d), "insufficient_scope");
  EXPECT_TRUE(decide_key(secret, "read").allowed);
  EXPECT_EQ(events_of(id).at(0).at("detail"), "scopes: read appointments:write -> read");

  auto wider = patch(id, R"({"scopes":["read","appointments:write"]})");
  EXPECT_EQ(wider.status, 400);
  EXPECT_EQ(wider.error_code(), "scope_widening");
  EXPECT_EQ(patch(id, R"({"scopes":[]})").error_code(), "missing_scope");
  EXPECT_EQ(patch(id, R"({"scopes":["no_such_scope"]})").error_code(), "unknown_scope");
  EXPECT_EQ(patch(id, R"({"scopes":null})").error_code(), "invalid_json");
  EXPECT_FALSE(decide_key(secret, "appointments:write").allowed);  // still narrowed
}

TEST_P(KeyEditTest, RateLimitAndAllowedAddressesAreStoredCanonically) {
  auto [id, secret] = create_key();
  auto r = patch(id, R"({"rate_limit":{"requests":100,"per_seconds":60},
                         "allowed_ips":["2001:DB8::/32","203.0.113.7","198.51.100.0/24"]})");
  ASSERT_EQ(r.status, 200) << r.body;
  const auto& key = r.json.at("key");
  EXPECT_EQ(key.at("rate_limit"), (json::object{{"requests", 100}, {"per_seconds", 60}}));
  EXPECT_EQ(key.at("allowed_ips"), (json::array{"2001:db8::/32", "203.0.113.7", "198.51.100.0/24"}));
  EXPECT_EQ(events_of(id).at(0).at("detail"),
            "rate limit: plan default -> 100 per 60 s; allowed addresses: anywhere -> "
            "2001:db8::/32, 203.0.113.7, 198.51.100.0/24");
  // Back to the defaults.
  auto back = patch(id, R"({"rate_limit":null,"allowed_ips":[]})");
  ASSERT_EQ(back.status, 200) << back.body;
  EXPECT_TRUE(back.json.at("key").at("rate_limit").is_null());
  EXPECT_TRUE(back.json.at("key").at("allowed_ips").as_array().empty());
}

TEST_P(KeyEditTest, BadEditsAreRefusedWithACodeAndChangeNothing) {
  auto [id, secret] = create_key("Original", R"(["read"])");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "invalid_json"},
      {"[]", "invalid_json"},
      {"{not json", "invalid_json"},
      {"{}", "nothing_to_change"},
      {R"({"lable":"typo"})", "unknown_field"},
      {R"({"label":""})", "invalid_label"},
      {R"({"label":7})", "invalid_label"},
      {R"({"description":5})", "invalid_description"},
      {"{\"description\":\"" + std::string(1001, 'x') + "\"}", "invalid_description"},
      {R"({"rate_limit":{"requests":0,"per_seconds":60}})", "invalid_rate_limit"},
      {R"({"rate_limit":{"requests":10,"per_seconds":86401}})", "invalid_rate_limit"},
      {R"({"rate_limit":{"requests":10}})", "invalid_rate_limit"},
      {R"({"rate_limit":{"requests":10,"per_seconds":60,"burst":5}})", "invalid_rate_limit"},
      {R"({"rate_limit":{"requests":1.5,"per_seconds":60}})", "invalid_rate_limit"},
      {R"({"rate_limit":"100/min"})", "invalid_rate_limit"},
      {R"({"allowed_ips":"203.0.113.0/24"})", "invalid_allowed_ips"},
      {R"({"allowed_ips":[42]})", "invalid_allowed_ips"},
      {R"({"allowed_ips":["203.0.113.0/33"]})", "invalid_allowed_ips"},
      {R"({"allowed_ips":["10.0.0.1/8"]})", "invalid_allowed_ips"},  // host bits set
      {R"({"allowed_ips":["2001:db8::1/32"]})", "invalid_allowed_ips"},
      {R"({"allowed_ips":["example.com"]})", "invalid_allowed_ips"},
      {R"({"allowed_ips":["fe80::1%eth0"]})", "invalid_allowed_ips"},
      {R"({"allowed_ips":["203.0.113.0/24","203.0.113.0/24"]})", "invalid_allowed_ips"},
      {R"({"label":"ok","allowed_ips":["nope"]})", "invalid_allowed_ips"},  // nothing half-done
  };
  for (const auto& [body, code] : cases) {
    auto r = patch(id, body);
    EXPECT_EQ(r.status, 400) << body;
    EXPECT_EQ(r.error_code(), code) << body;
  }
  std::string many = R"({"allowed_ips":[)";
  for (int i = 0; i < 33; ++i) many += (i ? "," : "") + std::string("\"10.0.") + std::to_string(i) + ".0/24\"";
  EXPECT_EQ(patch(id, many + "]}").error_code(), "invalid_allowed_ips");
  EXPECT_EQ(call("GET", "keys").json.at("keys").at(0).at("label"), "Original");
  EXPECT_EQ(events_of(id).size(), 1u);  // only "created"
  EXPECT_EQ(patch(id, R"({"label":"x"})", admin_b()).error_code(), "key_not_found");
  EXPECT_EQ(call("PATCH", "keys/999999", R"({"label":"x"})").error_code(), "key_not_found");
}

TEST_P(KeyEditTest, ARevokedKeyKeepsItsRulesButCanBeRenamed) {
  auto [id, secret] = create_key("Leaked one", R"(["read","appointments:write"])");
  ASSERT_EQ(call("POST", "keys/" + std::to_string(id) + "/revoke").status, 200);
  auto r = patch(id, R"({"scopes":["read"]})");
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.error_code(), "key_revoked");
  EXPECT_EQ(patch(id, R"({"allowed_ips":["203.0.113.0/24"]})").error_code(), "key_revoked");
  auto renamed = patch(id, R"({"label":"Leaked one, found on a forum"})");
  ASSERT_EQ(renamed.status, 200) << renamed.body;
  EXPECT_EQ(renamed.json.at("key").at("status"), "revoked");
}

TEST_P(KeyEditTest, CreateAcceptsTheSameFieldsAndARotationKeepsThem) {
  auto c = call("POST", "keys", R"({"label":"Website booking","scopes":["read"],
      "description":"Clinic website, built by Acme","rate_limit":{"requests":5,"per_seconds":1},
      "allowed_ips":["203.0.113.0/24"]})");
  ASSERT_EQ(c.status, 201) << c.body;
  const auto id = c.json.at("key").at("id").as_int64();
  EXPECT_EQ(c.json.at("key").at("description"), "Clinic website, built by Acme");
  EXPECT_EQ(call("POST", "keys", R"({"label":"x","allowed_ips":["bad"]})").error_code(),
            "invalid_allowed_ips");
  EXPECT_EQ(call("POST", "keys", R"({"label":"x","rate_limit":{"requests":-1,"per_seconds":1}})").error_code(),
            "invalid_rate_limit");
  auto rot = call("POST", "keys/" + std::to_string(id) + "/rotate", "{}");
  ASSERT_EQ(rot.status, 201) << rot.body;
  const auto& fresh = rot.json.at("key");
  EXPECT_EQ(fresh.at("description"), "Clinic website, built by Acme");
  EXPECT_EQ(fresh.at("rate_limit"), (json::object{{"requests", 5}, {"per_seconds", 1}}));
  EXPECT_EQ(fresh.at("allowed_ips"), (json::array{"203.0.113.0/24"}));
}

TEST_P(KeyEditTest, AnotherHostProcessEnforcesANarrowingWithinTheFeedInterval) {
  auto [id, secret] = create_key("Sync", R"(["read","appointments:write"])");
  // A second host process on the same database, with its own cache holding the wide key.
  TestRegistrar other_reg;
  auto other = std::make_shared<ApiAccessPlugin>();
  ASSERT_TRUE(other->on_load(*host_, other_reg).ok);
  ASSERT_NE(other_reg.hook, nullptr);
  auto decide_other = [&](const std::string& scope) {
    FakeApiRequest req;
    req.bearer(secret);
    req.scope_ = scope;
    host::ApiDecision d;
    other_reg.hook->on_api_request(req, d);
    other_reg.hook->on_api_response(d.token, d.allowed ? 200 : d.status);
    return d;
  };
  ASSERT_TRUE(decide_other("appointments:write").allowed);
  ASSERT_EQ(patch(id, R"({"scopes":["read"]})").status, 200);
  // PostgreSQL: NOTIFY wakes the other process; SQLite: its next poll (1 s by default).
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  host::ApiDecision d = decide_other("appointments:write");
  while (d.allowed && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
    d = decide_other("appointments:write");
  }
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(code_of(d), "insufficient_scope");
  EXPECT_TRUE(decide_other("read").allowed);
  other->on_stop();
}

TEST_P(KeyEditTest, AStoredAddressListThatNoLongerParsesStaysClosedThroughEditsAndRotation) {
  auto [id, secret] = create_key();
  ASSERT_EQ(patch(id, R"({"allowed_ips":["203.0.113.0/24"]})").status, 200);
  {
    // An operator's hand edit leaves text the plugin cannot parse.
    host::SessionLease sql(host_->database(), std::chrono::seconds(5));
    ASSERT_TRUE(sql);
    long long kid = id;
    *sql << "UPDATE api_access_keys SET allowed_ips = '203.0.113.0/24 oops' WHERE id = :id",
        soci::use(kid);
  }
  auto& keys = plugin_->context()->keys;
  auto closed = [&](KeyId k) {
    const auto st = keys.state(k);
    return st && !st->rules.allowed.anywhere() && !st->rules.allowed.allows("203.0.113.5");
  };
  ASSERT_TRUE(closed(id));
  ASSERT_EQ(patch(id, R"({"label":"Renamed"})").status, 200);
  EXPECT_TRUE(closed(id)) << "a label edit rewrote the address list";
  auto rot = call("POST", "keys/" + std::to_string(id) + "/rotate", "{}");
  ASSERT_EQ(rot.status, 201) << rot.body;
  EXPECT_TRUE(closed(rot.json.at("key").at("id").as_int64())) << "the rotated key allows more";
}

TEST_P(KeyEditTest, LastUsedFromIsTheLatestClientKeptPerKey) {
  auto [id, secret] = create_key();
  auto key_json = [&] { return call("GET", "keys").json.at("keys").at(0); };
  EXPECT_TRUE(key_json().at("last_used_from").is_null());
  FakeApiRequest first;
  first.bearer(secret).header("User-Agent", "PowerBI/2.130 (Windows)");
  first.client_address_ = "203.0.113.7";
  ASSERT_TRUE(decide(first, 200).allowed);
  auto from = key_json().at("last_used_from");  // GET keys flushes usage first
  EXPECT_EQ(from, (json::object{{"address", "203.0.113.7"}, {"user_agent", "PowerBI/2.130 (Windows)"}}));

  advance(std::chrono::seconds(5));
  FakeApiRequest second;
  second.bearer(secret).header("User-Agent", std::string("curl/8.0\x01\xff") + std::string(300, 'x'));
  second.client_address_ = "2001:db8::42";
  second.scope_ = "appointments:write";  // refused (read-only key), but still a use of the key
  EXPECT_FALSE(decide(second, 403).allowed);
  from = key_json().at("last_used_from");
  EXPECT_EQ(from.at("address"), "2001:db8::42");
  const std::string agent(from.at("user_agent").as_string());
  EXPECT_EQ(agent.size(), 256u);
  EXPECT_EQ(agent.substr(0, 10), "curl/8.0??");
  // Survives a restart: it is stored, not only cached.
  restart_plugin();
  EXPECT_EQ(key_json().at("last_used_from").at("address"), "2001:db8::42");
}

INSTANTIATE_TEST_SUITE_P(Dialects, KeyEditTest,
                         ::testing::Values(host::Dialect::sqlite, host::Dialect::postgresql),
                         param_name);

// --- the address filter on its own -------------------------------------------------------------

AddressFilter filter(std::vector<std::string> entries) {
  std::string error;
  auto f = AddressFilter::parse(entries, error);
  EXPECT_TRUE(f.has_value()) << error;
  return f.value_or(AddressFilter{});
}

TEST(AddressFilterTest, EmptyAllowsAnyAddressEvenAnUnknownOne) {
  const AddressFilter f = filter({});
  EXPECT_TRUE(f.anywhere());
  EXPECT_TRUE(f.allows("203.0.113.7"));
  EXPECT_TRUE(f.allows(""));
}

TEST(AddressFilterTest, MatchesIpv4NetworksAndSingleAddresses) {
  const AddressFilter f = filter({"203.0.113.0/24", "198.51.100.7"});
  EXPECT_TRUE(f.allows("203.0.113.0"));
  EXPECT_TRUE(f.allows("203.0.113.255"));
  EXPECT_FALSE(f.allows("203.0.114.1"));
  EXPECT_TRUE(f.allows("198.51.100.7"));
  EXPECT_FALSE(f.allows("198.51.100.8"));
  EXPECT_TRUE(f.allows("::ffff:203.0.113.9"));  // an IPv4 client on an IPv6 socket
  EXPECT_FALSE(f.allows(""));                   // the host could not tell: not from the list
  EXPECT_FALSE(f.allows("not an address"));
  EXPECT_FALSE(f.allows(std::string(100, '1')));
}

TEST(AddressFilterTest, MatchesIpv6NetworksAndKeepsFamiliesApart) {
  const AddressFilter f = filter({"2001:db8:abcd::/48"});
  EXPECT_TRUE(f.allows("2001:db8:abcd:12::1"));
  EXPECT_FALSE(f.allows("2001:db8:abce::1"));
  EXPECT_FALSE(f.allows("203.0.113.7"));
  const AddressFilter all_v4 = filter({"0.0.0.0/0"});
  EXPECT_TRUE(all_v4.allows("8.8.8.8"));
  EXPECT_FALSE(all_v4.allows("2001:db8::1"));
  EXPECT_EQ(filter({"::/0"}).to_strings(), std::vector<std::string>{"::/0"});
}

TEST(AddressFilterTest, StoredFormRoundTripsAndAGarbledOneAllowsNothing) {
  const AddressFilter f = filter({"2001:DB8:0::/32", "10.1.0.0/16", "192.0.2.1"});
  EXPECT_EQ(f.to_stored(), "2001:db8::/32 10.1.0.0/16 192.0.2.1");
  EXPECT_EQ(AddressFilter::from_stored(f.to_stored()), f);
  EXPECT_TRUE(AddressFilter::from_stored("").anywhere());
  const AddressFilter garbled = AddressFilter::from_stored("10.0.0.0/8 oops");
  EXPECT_FALSE(garbled.anywhere());
  EXPECT_FALSE(garbled.allows("10.1.2.3"));
}

}  // namespace
}  // namespace mdp::api_access::test
