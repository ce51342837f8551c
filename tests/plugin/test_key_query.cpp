// Hundreds of keys: GET keys with search, status filter, sort and pages, and GET events of one
// key, on SQLite and PostgreSQL (keys/key_query.hpp, KeyStore::query and ::events).
#include <set>

#include "plugin_test_host.hpp"
#include "plugin_context.hpp"

namespace mdp::api_access::test {
namespace {

namespace json = boost::json;

class KeyQueryTest : public PluginTest {
 protected:
  std::vector<std::string> labels(const RouteResult& r) {
    std::vector<std::string> out;
    for (const auto& k : r.json.at("keys").as_array()) out.emplace_back(k.at("label").as_string());
    return out;
  }
  std::int64_t total(const RouteResult& r) { return r.json.at("total").to_number<std::int64_t>(); }
};

TEST_P(KeyQueryTest, WithoutParametersEveryKeyNewestFirst) {
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 3; ++i) {
    ids.push_back(create_key("k" + std::to_string(i)).first);
    advance(std::chrono::seconds(1));
  }
  ASSERT_EQ(call("POST", "keys/" + std::to_string(ids[0]) + "/revoke").status, 200);
  const auto r = call("GET", "keys");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(labels(r), (std::vector<std::string>{"k2", "k1", "k0"}));  // the revoked one too
  EXPECT_EQ(total(r), 3);
  EXPECT_FALSE(r.json.as_object().contains("page"));
}

TEST_P(KeyQueryTest, PagesOfAManyKeyClinic) {
  for (int i = 0; i < 53; ++i) {
    create_key("key " + std::to_string(i));
    advance(std::chrono::seconds(1));
  }
  create_key("other clinic", "[\"read\"]", admin_b());
  auto r = call("GET", "keys?per_page=25");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(total(r), 53);
  EXPECT_EQ(r.json.at("page"), 1);
  EXPECT_EQ(r.json.at("per_page"), 25);
  ASSERT_EQ(labels(r).size(), 25u);
  EXPECT_EQ(labels(r).front(), "key 52");
  r = call("GET", "keys?per_page=25&page=3");
  EXPECT_EQ(labels(r), (std::vector<std::string>{"key 2", "key 1", "key 0"}));
  r = call("GET", "keys?per_page=25&page=4");
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(labels(r).empty());
  EXPECT_EQ(total(r), 53);
  // Every key exactly once across the pages.
  std::set<std::string> seen;
  for (int page = 1; page <= 3; ++page)
    for (const auto& l : labels(call("GET", "keys?per_page=25&page=" + std::to_string(page)))) seen.insert(l);
  EXPECT_EQ(seen.size(), 53u);
}

TEST_P(KeyQueryTest, SearchFindsLabelOrPreviewCaseInsensitivelyAndLiterally) {
  create_key("Power BI sync");
  create_key("Website booking widget");
  create_key("50%_off campaign");
  const auto [id, secret] = create_key("Accounting");
  EXPECT_EQ(labels(call("GET", "keys?q=power")), std::vector<std::string>{"Power BI sync"});
  EXPECT_EQ(labels(call("GET", "keys?q=BOOKING")), std::vector<std::string>{"Website booking widget"});
  // % and _ mean themselves, not LIKE wildcards.
  // (The test host passes query values as written: the real host has decoded them already.)
  EXPECT_EQ(labels(call("GET", "keys?q=50%_")), std::vector<std::string>{"50%_off campaign"});
  EXPECT_EQ(labels(call("GET", "keys?q=%_")), std::vector<std::string>{"50%_off campaign"});
  EXPECT_EQ(labels(call("GET", "keys?q=%")), std::vector<std::string>{"50%_off campaign"});
  EXPECT_EQ(labels(call("GET", "keys?q=_")).size(), 4u);  // every preview is "mdp_..."
  EXPECT_TRUE(labels(call("GET", "keys?q=!")).empty());  // the LIKE escape character is literal too
  // The last four characters of a key, as the preview shows them.
  const std::string last4 = secret.substr(secret.size() - 4);
  const auto by_preview = labels(call("GET", "keys?q=" + last4));
  EXPECT_NE(std::find(by_preview.begin(), by_preview.end(), "Accounting"), by_preview.end());
  EXPECT_TRUE(labels(call("GET", "keys?q=nothing-like-this")).empty());
  (void)id;
}

TEST_P(KeyQueryTest, StatusFiltersFollowTheGuidesRules) {
  const auto fresh = create_key("fresh").first;
  const auto revoked = create_key("revoked").first;
  ASSERT_EQ(call("POST", "keys/" + std::to_string(revoked) + "/revoke").status, 200);
  const auto expiring = call("POST", "keys", R"({"label":"expiring","expires_at":"2099-01-01T00:00:00Z"})");
  ASSERT_EQ(expiring.status, 201);
  // 100 days pass: every earlier key is now due for rotation and unused.
  advance(std::chrono::hours(24 * 100));
  const auto young = create_key("young").first;
  const auto rotating = create_key("rotating").first;
  ASSERT_EQ(call("POST", "keys/" + std::to_string(rotating) + "/rotate", R"({"grace_seconds":86400})").status, 201);
  const auto soon = call("POST", "keys", R"({"label":"soon","expires_at":"2099-01-01T00:00:00Z"})");
  (void)soon;
  auto set_of = [&](const std::string& status) {
    auto l = labels(call("GET", "keys?status=" + status));
    return std::multiset<std::string>(l.begin(), l.end());
  };
  using S = std::multiset<std::string>;
  EXPECT_EQ(set_of("revoked"), S{"revoked"});
  EXPECT_EQ(set_of("rotation_due"), (S{"fresh", "expiring"}));
  EXPECT_EQ(set_of("unused"), (S{"fresh", "expiring"}));
  // The rotated key expires within a day (its grace): expiring soon; a 2099 expiry is not.
  EXPECT_EQ(set_of("expiring_soon"), S{"rotating"});
  EXPECT_EQ(set_of("current").count("revoked"), 0u);
  EXPECT_EQ(set_of("all").size(), 7u);
  advance(std::chrono::hours(48));
  EXPECT_EQ(set_of("expired"), S{"rotating"});
  EXPECT_EQ(set_of("active").count("rotating"), 1u);  // the replacement, same label
  EXPECT_EQ(set_of("active").size(), 5u);
  (void)fresh;
  (void)young;
}

TEST_P(KeyQueryTest, SortOrders) {
  create_key("banana");
  advance(std::chrono::seconds(1));
  create_key("Apple");
  advance(std::chrono::seconds(1));
  const auto [cherry, cherry_secret] = create_key("cherry");
  ASSERT_EQ(decide_key(cherry_secret).allowed, true);
  EXPECT_TRUE(plugin_->context()->flush_usage());
  EXPECT_EQ(labels(call("GET", "keys?sort=label")), (std::vector<std::string>{"Apple", "banana", "cherry"}));
  EXPECT_EQ(labels(call("GET", "keys?sort=oldest")), (std::vector<std::string>{"banana", "Apple", "cherry"}));
  EXPECT_EQ(labels(call("GET", "keys?sort=last_used")).front(), "cherry");  // never-used keys last
  (void)cherry;
}

TEST_P(KeyQueryTest, BadParametersAre400) {
  for (const char* q : {"status=gone", "sort=random", "page=0", "page=x", "per_page=0", "per_page=501",
                        "page=-1"}) {
    const auto r = call("GET", std::string("keys?") + q);
    EXPECT_EQ(r.status, 400) << q;
    EXPECT_EQ(r.error_code(), "invalid_query") << q;
  }
  EXPECT_EQ(call("GET", "keys?q=" + std::string(101, 'x')).error_code(), "invalid_query");
  EXPECT_EQ(call("GET", "keys?q=" + std::string(100, 'x')).status, 200);
  EXPECT_EQ(call("GET", "keys?unknown=1").status, 200);  // unknown parameters are ignored
}

TEST_P(KeyQueryTest, EventsOfOneKeyIncludeItsRotation) {
  const auto a = create_key("a").first;
  const auto b = create_key("b").first;
  const auto rot = call("POST", "keys/" + std::to_string(a) + "/rotate", "{}");
  ASSERT_EQ(rot.status, 201);
  const auto a2 = rot.json.at("key").at("id").as_int64();
  ASSERT_EQ(call("POST", "keys/" + std::to_string(b) + "/revoke").status, 200);

  auto r = call("GET", "events?key_id=" + std::to_string(a));
  ASSERT_EQ(r.status, 200) << r.body;
  std::vector<std::string> types;
  for (const auto& e : r.json.at("events").as_array()) types.emplace_back(e.at("type").as_string());
  EXPECT_EQ(types, (std::vector<std::string>{"rotated", "created"}));
  EXPECT_EQ(r.json.at("total"), 2);
  EXPECT_EQ(call("GET", "events?key_id=" + std::to_string(a2)).json.at("total"), 1);
  EXPECT_EQ(call("GET", "events").json.at("total"), 4);
  EXPECT_EQ(call("GET", "events?limit=1&offset=1").json.at("events").as_array().size(), 1u);
  // Another clinic's key, or none: 404 like every other route; bad numbers: 400.
  const auto other = create_key("theirs", "[\"read\"]", admin_b()).first;
  EXPECT_EQ(call("GET", "events?key_id=" + std::to_string(other)).status, 404);
  EXPECT_EQ(call("GET", "events?key_id=999999").status, 404);
  for (const char* q : {"key_id=x", "key_id=0", "limit=0", "limit=1001", "offset=-1"})
    EXPECT_EQ(call("GET", std::string("events?") + q).error_code(), "invalid_query") << q;
}

INSTANTIATE_TEST_SUITE_P(Dialects, KeyQueryTest,
                         ::testing::Values(host::Dialect::sqlite, host::Dialect::postgresql), param_name);

}  // namespace
}  // namespace mdp::api_access::test
