// Usage counting (usage/*): exact per key and day of the key's clinic (its time zone; UTC for a
// clinic without one) after mixed calls, across day changes, failed writes and a graceful restart.
#include <soci/soci.h>

#include "plugin_context.hpp"
#include "plugin_test_host.hpp"

namespace mdp::api_access::test {
namespace {

namespace json = boost::json;

class UsageTest : public PluginTest {
 protected:
  json::value usage(std::int64_t id, int days = 30) {
    auto r = call("GET", "keys/" + std::to_string(id) + "/usage?days=" + std::to_string(days));
    EXPECT_EQ(r.status, 200) << r.body;
    return r.json;
  }
  void rename_usage_table(bool away) {
    std::size_t token = 0;
    soci::session* s = host_->db->borrow(std::chrono::seconds(5), token);
    devhost::execute_script(*s, host_->dialect,
                            away ? "ALTER TABLE api_access_usage_daily RENAME TO usage_gone"
                                 : "ALTER TABLE usage_gone RENAME TO api_access_usage_daily");
    host_->db->give_back(token);
  }
};

TEST_P(UsageTest, ANewKeyHasThirtyZeroDaysEndingToday) {
  auto [id, secret] = create_key();
  auto u = usage(id);
  EXPECT_EQ(u.at("key_id"), id);
  const auto& days = u.at("days").as_array();
  ASSERT_EQ(days.size(), 30u);
  EXPECT_EQ(days.front().at("date"), "2026-10-28");
  EXPECT_EQ(days.back().at("date"), "2026-11-26");
  for (const auto& d : days) {
    EXPECT_EQ(d.at("requests"), 0);
    EXPECT_EQ(d.at("client_errors"), 0);
    EXPECT_EQ(d.at("server_errors"), 0);
  }
  EXPECT_EQ(u.at("requests"), 0);
  EXPECT_EQ(u.at("error_rate").as_double(), 0.0);
}

// Days are the clinic's: in Auckland (UTC+13 in November) 09:30 UTC is 22:30 on the 26th and
// 11:30 UTC is 00:30 on the 27th, two days that UTC would call one.
TEST_P(UsageTest, DaysAreTheClinicsDaysInItsTimeZone) {
  host_->dir.clinics[kClinicA].time_zone = "Pacific/Auckland";
  auto [id, secret] = create_key();
  for (int i = 0; i < 3; ++i) decide_key(secret, "read", 200);
  advance(std::chrono::hours(2));
  decide_key(secret, "read", 404);
  auto u = usage(id, 2);
  const auto& days = u.at("days").as_array();
  ASSERT_EQ(days.size(), 2u);
  EXPECT_EQ(days[0].at("date"), "2026-11-26");
  EXPECT_EQ(days[0].at("requests"), 3);
  EXPECT_EQ(days[1].at("date"), "2026-11-27");
  EXPECT_EQ(days[1].at("requests"), 1);
  EXPECT_EQ(days[1].at("client_errors"), 1);
  // The stored rows carry the clinic's dates.
  std::size_t token = 0;
  soci::session* s = host_->db->borrow(std::chrono::seconds(5), token);
  long long n = 0;
  *s << "SELECT COUNT(*) FROM api_access_usage_daily WHERE key_id = :k AND day IN ('2026-11-26', '2026-11-27')",
      soci::use(static_cast<long long>(id)), soci::into(n);
  host_->db->give_back(token);
  EXPECT_EQ(n, 2);
}

// While the host cannot say which zone a clinic is in, its counts wait in memory (not written
// to a guessed day), and are written once it can.
TEST_P(UsageTest, CountsWaitWhileTheClinicsZoneIsUnknown) {
  host_->dir.clinics[kClinicA].time_zone = "Pacific/Auckland";
  auto [id, secret] = create_key();
  host_->dir.unavailable = true;
  advance(std::chrono::hours(2));  // 00:30 on the 27th in Auckland
  for (int i = 0; i < 4; ++i) decide_key(secret, "read", 200);
  auto* ctx = plugin_->context().get();
  ctx->flush_usage();
  EXPECT_EQ(ctx->flusher.pending().requests, 4u);
  EXPECT_EQ(call("GET", "keys/" + std::to_string(id) + "/usage?days=1").status, 503);
  host_->dir.unavailable = false;
  auto u = usage(id, 1);
  EXPECT_EQ(u.at("days").at(0).at("date"), "2026-11-27");
  EXPECT_EQ(u.at("days").at(0).at("requests"), 4);
  EXPECT_EQ(ctx->flusher.pending().requests, 0u);
}

TEST_P(UsageTest, MixedRequestsAreCountedExactly) {
  auto [id, secret] = create_key("counted", R"(["read"])");
  auto [other, other_secret] = create_key("other");
  for (int i = 0; i < 17; ++i) decide_key(secret, "read", 200);
  for (int i = 0; i < 5; ++i) decide_key(secret, "read", 404);
  for (int i = 0; i < 3; ++i) decide_key(secret, "read", 503);
  for (int i = 0; i < 2; ++i) decide_key(secret, "appointments:write");  // 403 insufficient_scope
  decide_key(other_secret, "read", 200);
  decide(FakeApiRequest());  // no key: counted nowhere
  auto u = usage(id, 1);
  EXPECT_EQ(u.at("requests"), 27);
  EXPECT_EQ(u.at("days").at(0).at("requests"), 27);
  EXPECT_EQ(u.at("days").at(0).at("client_errors"), 7);
  EXPECT_EQ(u.at("days").at(0).at("server_errors"), 3);
  EXPECT_DOUBLE_EQ(u.at("error_rate").as_double(), 10.0 / 27.0);
  EXPECT_EQ(usage(other, 1).at("requests"), 1);
  // last_used_at follows the host clock.
  advance(std::chrono::seconds(90));
  decide_key(secret);
  auto keys = call("GET", "keys").json.at("keys").as_array();
  for (const auto& k : keys) {
    if (k.at("id") == id) {
      EXPECT_EQ(k.at("last_used_at"), "2026-11-26T09:31:30Z");
    }
  }
}

TEST_P(UsageTest, DaysLandOnTheRightDateWhenTheClockJumps) {
  auto [id, secret] = create_key();
  for (int i = 0; i < 4; ++i) decide_key(secret);          // 2026-11-26
  advance(std::chrono::hours(24));
  for (int i = 0; i < 6; ++i) decide_key(secret, "read", 500);  // 2026-11-27, not flushed yet
  advance(std::chrono::hours(48));
  decide_key(secret);                                       // 2026-11-29
  auto u = usage(id, 5);
  const auto& days = u.at("days").as_array();
  ASSERT_EQ(days.size(), 5u);
  EXPECT_EQ(days[0].at("date"), "2026-11-25");
  EXPECT_EQ(days[0].at("requests"), 0);
  EXPECT_EQ(days[1].at("requests"), 4);
  EXPECT_EQ(days[2].at("requests"), 6);
  EXPECT_EQ(days[2].at("server_errors"), 6);
  EXPECT_EQ(days[3].at("requests"), 0);
  EXPECT_EQ(days[4].at("date"), "2026-11-29");
  EXPECT_EQ(days[4].at("requests"), 1);
  EXPECT_EQ(u.at("requests"), 11);
  // Back in time (a test clock may): counts go to that day, not today's.
  host_->clock_.set(host_->clock_.now() - std::chrono::hours(72));
  decide_key(secret);
  host_->clock_.set(host_->clock_.now() + std::chrono::hours(72));
  EXPECT_EQ(usage(id, 5).at("days").at(1).at("requests"), 5);
}

TEST_P(UsageTest, RepeatedFlushesNeverCountTwice) {
  auto [id, secret] = create_key();
  for (int round = 0; round < 5; ++round) {
    for (int i = 0; i < 3; ++i) decide_key(secret);
    plugin_->background_tick();
    plugin_->background_tick();
  }
  EXPECT_EQ(usage(id, 1).at("requests"), 15);
}

TEST_P(UsageTest, AFailedWriteIsRetriedAndLosesNothing) {
  auto [id, secret] = create_key();
  for (int i = 0; i < 7; ++i) decide_key(secret);
  rename_usage_table(true);
  EXPECT_FALSE(plugin_->context()->flush_usage());
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(decide_key(secret).allowed);  // requests unaffected
  EXPECT_FALSE(plugin_->context()->flush_usage());
  rename_usage_table(false);
  EXPECT_TRUE(plugin_->context()->flush_usage());
  EXPECT_EQ(usage(id, 1).at("requests"), 10);
  EXPECT_TRUE(host_->log_.mentions("usage flush failed"));
}

TEST_P(UsageTest, AGracefulRestartLosesNothing) {
  auto [id, secret] = create_key();
  for (int i = 0; i < 12; ++i) decide_key(secret, "read", i < 2 ? 429 : 200);
  restart_plugin();  // on_stop flushes; a new instance starts with an empty cache
  for (int i = 0; i < 3; ++i) decide_key(secret);
  auto u = usage(id, 1);
  EXPECT_EQ(u.at("requests"), 15);
  EXPECT_EQ(u.at("days").at(0).at("client_errors"), 2);
  // Only on_stop's flush ran before the restart: nothing was written twice.
  restart_plugin();
  EXPECT_EQ(usage(id, 1).at("requests"), 15);
}

TEST_P(UsageTest, ThePageReadsUsageForTheKeysItShows) {
  auto [a, sa] = create_key("a");
  auto [b, sb] = create_key("b");
  auto [c, sc] = create_key("c", R"(["read"])", admin_b());
  decide_key(sa);
  decide_key(sa);
  decide_key(sc);
  auto& ctx = *plugin_->context();
  ASSERT_TRUE(ctx.flush_usage());
  const DayNumber today = day_of(ctx.now());
  const auto m = ctx.usage.daily_for_keys({a, b}, today - 29, today);
  ASSERT_EQ(m.size(), 1u);  // b had no usage; c was not asked for
  EXPECT_TRUE(ctx.usage.daily_for_keys({}, today - 29, today).empty());
  ASSERT_EQ(m.at(a).size(), 30u);
  EXPECT_EQ(m.at(a).back().requests, 2u);
  EXPECT_EQ(totals(m.at(a)).requests, 2u);
}

INSTANTIATE_TEST_SUITE_P(Dialects, UsageTest,
                         ::testing::Values(host::Dialect::sqlite, host::Dialect::postgresql),
                         param_name);

}  // namespace
}  // namespace mdp::api_access::test
