// Least privilege (usage/scope_usage.hpp, usage/least_privilege.hpp): the hook tallies which
// scope each allowed request used, the usage flush writes the tally exactly once (no write per
// request), and a key at least 30 days old holding a write scope unused for 30 days is marked
// "write access unused" on the page and in GET keys, with a one-click reduction (PATCH
// keys/{id}) to the scopes it did use. Time is the test clock.
#include <chrono>

#include <soci/soci.h>

#include "plugin_context.hpp"
#include "plugin_test_host.hpp"
#include "usage/least_privilege.hpp"

namespace mdp::api_access::test {
namespace {

using namespace std::chrono_literals;
namespace json = boost::json;

class LeastPrivilegeTest : public PluginTest {
 protected:
  json::object key_json(std::int64_t id) {
    auto r = call("GET", "keys?status=all");
    EXPECT_EQ(r.status, 200) << r.body;
    for (const auto& k : r.json.at("keys").as_array())
      if (k.at("id").as_int64() == id) return k.as_object();
    ADD_FAILURE() << "key " << id << " not listed";
    return {};
  }
  std::string page() {
    host::RouteRequest req;
    req.method = "GET";
    req.user = admin_a();
    return reg_->pages.front().view_model(req);
  }
  // api_access_scope_usage as "scope=requests" for one key, in scope order.
  std::vector<std::string> stored(std::int64_t key) {
    std::size_t token = 0;
    soci::session* s = host_->db->borrow(5s, token);
    std::vector<std::string> out;
    std::string scope;
    long long n = 0, k = key;
    soci::statement st = (s->prepare << "SELECT scope, requests FROM api_access_scope_usage WHERE key_id = :k "
                                        "ORDER BY scope",
                          soci::into(scope), soci::into(n), soci::use(k));
    st.execute();
    while (st.fetch()) out.push_back(scope + "=" + std::to_string(n));
    host_->db->give_back(token);
    return out;
  }
};

TEST_P(LeastPrivilegeTest, ScopesAreCountedWithTheUsageFlushExactlyOnce) {
  auto [id, secret] = create_key("Booking widget", R"(["read","appointments:write"])");
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(decide_key(secret, "read").allowed);
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(decide_key(secret, "appointments:write").allowed);
  EXPECT_FALSE(decide_key(secret, "patients:write").allowed);  // refused: no scope was used
  EXPECT_TRUE(stored(id).empty());  // nothing written per request
  ASSERT_TRUE(plugin_->context()->flush_usage());
  EXPECT_EQ(stored(id), (std::vector<std::string>{"appointments:write=2", "read=5"}));
  ASSERT_TRUE(plugin_->context()->flush_usage());
  EXPECT_EQ(stored(id), (std::vector<std::string>{"appointments:write=2", "read=5"}));  // not twice

  // The database is down for a flush: the tally waits in memory and is written once, later.
  decide_key(secret, "read");
  host_->faults->set_down(true);
  EXPECT_FALSE(plugin_->context()->flush_usage());
  host_->faults->set_down(false);
  ASSERT_TRUE(plugin_->context()->flush_usage());
  EXPECT_EQ(stored(id), (std::vector<std::string>{"appointments:write=2", "read=6"}));

  auto u = call("GET", "keys/" + std::to_string(id) + "/usage?days=1");
  ASSERT_EQ(u.status, 200) << u.body;
  const auto& scopes = u.json.at("scopes").as_array();
  ASSERT_EQ(scopes.size(), 2u) << u.body;
  EXPECT_EQ(scopes[1].at("scope").as_string(), "read");
  EXPECT_EQ(scopes[1].at("requests").as_int64(), 6);
  EXPECT_EQ(scopes[1].at("last_used_at").as_string(), "2026-11-26T09:30:00Z");
}

TEST_P(LeastPrivilegeTest, AnUnusedWriteScopeIsMarkedAfterThirtyDaysAndReducedInOneClick) {
  auto [id, secret] = create_key("Booking widget", R"(["read","appointments:write","patients:write"])");
  auto [busy, busy_secret] = create_key("Full sync", R"(["read","patients:write"])");
  for (int day = 0; day < 29; ++day) {
    advance(24h);
    decide_key(secret, "read");
    decide_key(secret, "appointments:write");
    decide_key(busy_secret, "patients:write");
  }
  // 29 days: too young for a verdict.
  EXPECT_TRUE(key_json(id).at("least_privilege").is_null());
  EXPECT_EQ(page().find("Write access unused"), std::string::npos);
  advance(24h * 2);
  decide_key(busy_secret, "read");
  const auto lp = key_json(id).at("least_privilege");
  ASSERT_TRUE(lp.is_object()) << json::serialize(key_json(id));
  EXPECT_EQ(json::serialize(lp.at("unused_write_scopes")), R"(["patients:write"])");
  EXPECT_EQ(json::serialize(lp.at("used_scopes")), R"(["read","appointments:write"])");
  // Its write scope used two days ago: not marked.
  EXPECT_TRUE(key_json(busy).at("least_privilege").is_null());

  // The page: the mark, and a button whose action is the narrowing PATCH.
  const auto vm = json::parse(page());
  const std::string text = json::serialize(vm);
  EXPECT_NE(text.find("Write access unused"), std::string::npos);
  const json::object* button = nullptr;
  for (const auto& row : vm.at("children").as_array()) {
    if (!row.is_object() || row.at("type") != "section") continue;
    for (const auto& c : row.at("children").as_array()) {
      if (c.at("type") != "table") continue;
      for (const auto& r : c.at("rows").as_array())
        if (r.at("id") == json::value("key-" + std::to_string(id)))
          for (const auto& part : r.at("cells").at("status").as_array())
            if (part.at("type") == "button") button = &part.as_object();
    }
  }
  ASSERT_NE(button, nullptr) << text;
  EXPECT_EQ(button->at("label").as_string(), "Reduce to Read-only and Write appointments");
  const auto& action = button->at("action").as_object();
  EXPECT_EQ(action.at("method").as_string(), "PATCH");
  EXPECT_EQ(action.at("route").as_string(), "keys/" + std::to_string(id));
  EXPECT_NE(std::string(action.at("confirm").as_string()).find("Write patients"), std::string::npos);

  // The click: what the host sends.
  auto r = call("PATCH", action.at("route").as_string().c_str(), json::serialize(action.at("body")));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::serialize(r.json.at("key").at("scopes")), R"(["read","appointments:write"])");
  EXPECT_TRUE(key_json(id).at("least_privilege").is_null());
  EXPECT_EQ(page().find("Write access unused"), std::string::npos);
  EXPECT_EQ(code_of(decide_key(secret, "patients:write")), "insufficient_scope");  // enforced at once
  EXPECT_TRUE(decide_key(secret, "appointments:write").allowed);
}

TEST_P(LeastPrivilegeTest, NoMarkBeforeCountingHasCoveredThirtyDays) {
  auto [id, secret] = create_key("Old integration", R"(["read","patients:write"])");
  advance(24h * 40);
  decide_key(secret, "read");
  ASSERT_TRUE(key_json(id).at("least_privilege").is_object());
  {
    // As on a database where per-scope counting began only ten days ago (an upgrade): the key
    // may have used its write scope before that, so no verdict yet.
    std::size_t token = 0;
    soci::session* s = host_->db->borrow(5s, token);
    long long at = plugin_->context()->now() - 10 * kMicrosPerDay;
    *s << "UPDATE api_access_scope_tracking SET started_at = :a", soci::use(at);
    host_->db->give_back(token);
  }
  EXPECT_TRUE(key_json(id).at("least_privilege").is_null());
  restart_plugin();  // a later load does not move the start
  EXPECT_TRUE(key_json(id).at("least_privilege").is_null());
  advance(24h * 21);
  decide_key(secret, "read");
  EXPECT_TRUE(key_json(id).at("least_privilege").is_object());
}

TEST(LeastPrivilegeRule, WhatIsMarkedAndWhatIsKept) {
  const Micros day = kMicrosPerDay, now = 100 * day;
  KeyRecord k;
  k.id = 7;
  k.created_at = 10 * day;
  k.scopes = {"read", "appointments:write", "patients:write"};
  const std::vector<host::ApiScope> host_scopes = {{"read", "", false}, {"appointments:write", "", true},
                                                   {"patients:write", "", true}};
  std::vector<ScopeUse> uses = {{7, "read", 3, 90 * day}, {7, "appointments:write", 1, 60 * day}};
  auto lp = least_privilege(k, uses, 0, host_scopes, now);
  ASSERT_TRUE(lp);
  EXPECT_EQ(lp->unused_write, (std::vector<std::string>{"appointments:write", "patients:write"}));  // 40 days ago
  EXPECT_EQ(lp->used, (std::vector<std::string>{"read"}));
  uses.push_back({7, "patients:write", 1, 71 * day});
  uses[1].last_used_at = 70 * day;  // exactly 30 days ago: still used within the window
  EXPECT_FALSE(least_privilege(k, uses, 0, host_scopes, now));
  k.revoked_at = 99 * day;
  uses.pop_back();
  EXPECT_FALSE(least_privilege(k, uses, 0, host_scopes, now));  // a revoked key needs no advice
  k.revoked_at.reset();
  k.scopes = {"read"};
  EXPECT_FALSE(least_privilege(k, {}, 0, host_scopes, now));  // no write scope: nothing to reduce
  k.scopes = {"billing:write"};  // a scope the host no longer lists: its name says write
  auto gone = least_privilege(k, {}, 0, host_scopes, now);
  ASSERT_TRUE(gone);
  EXPECT_TRUE(gone->used.empty());  // used nothing: no reduction to offer
}

INSTANTIATE_TEST_SUITE_P(Dialects, LeastPrivilegeTest,
                         ::testing::Values(host::Dialect::sqlite, host::Dialect::postgresql), param_name);

}  // namespace
}  // namespace mdp::api_access::test
