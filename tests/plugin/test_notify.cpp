// Notifications to the clinic's admins (notify/*): each cause once, not twice after a restart
// or from a second plugin instance on the same database, retried when the host could not take
// them, and the weekly digest only when there is something to do. Time is the test clock.
#include <map>
#include <set>

#include <soci/soci.h>

#include "notify/notice_rules.hpp"
#include "plugin_context.hpp"
#include "plugin_test_host.hpp"

namespace mdp::api_access::test {
namespace {

using namespace std::chrono_literals;

class NotifyTest : public PluginTest {
 protected:
  // One background round (flush, sweep, notifications) after moving the clock past the check
  // interval, as the plugin's thread would do.
  void round(ApiAccessPlugin& p) {
    advance(61s);
    p.background_tick();
  }
  void round() { round(*plugin_); }

  // The keys the host was asked to deliver, every call counted (duplicates included).
  std::multiset<std::string> sent() const {
    std::multiset<std::string> out;
    for (const auto& n : host_->notes.calls_log()) out.insert(n.key);
    return out;
  }
  std::size_t sent_with(const std::string& part) const {
    std::size_t n = 0;
    for (const auto& k : sent())
      if (k.find(part) != std::string::npos) ++n;
    return n;
  }
  long long rows(const std::string& where) {
    std::size_t token = 0;
    soci::session* s = host_->db->borrow(5s, token);
    long long n = 0;
    *s << "SELECT COUNT(*) FROM api_access_notices WHERE " + where, soci::into(n);
    host_->db->give_back(token);
    return n;
  }
  static std::string key_part(std::int64_t id, const std::string& cause) {
    return "/key/" + std::to_string(id) + "/" + cause;
  }
};

TEST_P(NotifyTest, RotationSevenDaysAheadThenDueEachOnce) {
  auto [id, secret] = create_key("Power BI sync");
  round();
  EXPECT_EQ(sent_with(key_part(id, "rotation")), 0u);  // a new key: nothing to say
  for (int day = 0; day < 83; ++day) {  // used every day: no "unused" notice in the way
    advance(24h);
    decide_key(secret, "read", 200);
  }
  round();
  EXPECT_EQ(sent_with(key_part(id, "rotation_soon")), 1u);
  EXPECT_EQ(sent_with(key_part(id, "rotation_due")), 0u);
  round();
  advance(24h);
  round();
  EXPECT_EQ(sent_with(key_part(id, "rotation_soon")), 1u);  // not twice
  advance(24h * 6);
  decide_key(secret, "read", 200);
  round();
  EXPECT_EQ(sent_with(key_part(id, "rotation_due")), 1u);
  restart_plugin();
  round();
  advance(24h * 2);
  round();
  EXPECT_EQ(sent_with(key_part(id, "rotation_due")), 1u);  // not after a restart either
  EXPECT_EQ(sent_with(key_part(id, "rotation_soon")), 1u);
  EXPECT_EQ(rows("cause = 'rotation_due' AND sent_at IS NOT NULL AND outcome = 'accepted'"), 1);

  const auto all = host_->notes.accepted();
  auto due = std::find_if(all.begin(), all.end(), [&](const host::Notification& n) {
    return n.key.find(key_part(id, "rotation_due")) != std::string::npos;
  });
  ASSERT_NE(due, all.end());
  EXPECT_EQ(due->clinic_id, kClinicA);
  EXPECT_NE(due->subject.find("Power BI sync"), std::string::npos) << due->subject;
  EXPECT_EQ(due->severity, host::NotificationSeverity::warning);
  EXPECT_EQ(due->link.rfind("/settings/integrations/api-keys?q=", 0), 0u) << due->link;
  EXPECT_EQ(due->body.find(secret), std::string::npos);  // previews only, never the key
}

TEST_P(NotifyTest, AKeyFoundOldGetsRotationDueOnlyNotTheLateReminder) {
  auto [id, secret] = create_key();
  advance(24h * 100);
  round();
  EXPECT_EQ(sent_with(key_part(id, "rotation_due")), 1u);
  EXPECT_EQ(sent_with(key_part(id, "rotation_soon")), 0u);
}

TEST_P(NotifyTest, ExpiringWithinSevenDaysOnce) {
  auto r = call("POST", "keys", R"({"label":"temp","expires_at":"2026-12-10T09:30:00Z"})");
  ASSERT_EQ(r.status, 201) << r.body;
  const auto id = r.json.at("key").at("id").as_int64();
  round();
  EXPECT_EQ(sent_with(key_part(id, "expiring_soon")), 0u);  // 14 days ahead
  advance(24h * 7);  // 2026-12-03 09:3x: within 7 days
  round();
  round();
  EXPECT_EQ(sent_with(key_part(id, "expiring_soon")), 1u);
  advance(24h * 8);  // expired: no more messages about it
  round();
  EXPECT_EQ(sent_with(key_part(id, "expiring_soon")), 1u);
}

TEST_P(NotifyTest, UnusedForThirtyDaysOnceAndNotForRevokedKeys) {
  auto [used, used_secret] = create_key("used");
  auto [idle, idle_secret] = create_key("idle");
  auto [gone, gone_secret] = create_key("revoked");
  ASSERT_EQ(call("POST", "keys/" + std::to_string(gone) + "/revoke").status, 200);
  advance(24h * 29);
  decide_key(used_secret, "read", 200);
  round();
  EXPECT_EQ(sent_with(key_part(idle, "unused")), 0u);
  advance(24h * 2);
  round();
  round();
  EXPECT_EQ(sent_with(key_part(idle, "unused")), 1u);
  EXPECT_EQ(sent_with(key_part(used, "unused")), 0u);  // used 2 days ago
  EXPECT_EQ(sent_with(key_part(gone, "unused")), 0u);
}

TEST_P(NotifyTest, SpikeOncePerDay) {
  auto [id, secret] = create_key("widget");
  decide_key(secret, "read", 200);  // day 0: 1 request
  advance(24h);
  for (int i = 0; i < 10; ++i) decide_key(secret, "read", 200);
  round();
  EXPECT_EQ(sent_with(key_part(id, "spike")), 0u);  // 10 is not 20 above a mean of 1
  for (int i = 0; i < 20; ++i) decide_key(secret, "read", 200);
  round();
  round();
  EXPECT_EQ(sent_with(key_part(id, "spike")), 1u);
  const auto all = host_->notes.accepted();
  auto spike = std::find_if(all.begin(), all.end(), [&](const host::Notification& n) {
    return n.key.find(key_part(id, "spike")) != std::string::npos;
  });
  ASSERT_NE(spike, all.end());
  EXPECT_NE(spike->body.find("30 requests"), std::string::npos) << spike->body;
  EXPECT_EQ(spike->severity, host::NotificationSeverity::danger);
}

TEST_P(NotifyTest, ASecondPluginInstanceOnTheSameDatabaseSendsNothingTwice) {
  auto [a, sa] = create_key("a");
  auto [b, sb] = create_key("b");
  // A second host process: another plugin instance on the same database and host services.
  auto other = std::make_shared<ApiAccessPlugin>();
  TestRegistrar other_reg;
  ASSERT_TRUE(other->on_load(*host_, other_reg).ok);
  advance(24h * 95);
  round(*other);
  plugin_->background_tick();
  round(*plugin_);
  other->background_tick();
  for (auto id : {a, b}) {
    EXPECT_EQ(sent_with(key_part(id, "rotation_due")), 1u) << id;
    EXPECT_EQ(sent_with(key_part(id, "unused")), 1u) << id;
  }
  for (const auto& k : sent()) EXPECT_EQ(sent().count(k), 1u) << k;
  EXPECT_EQ(rows("notice_key = 'key/" + std::to_string(a) + "/rotation_due'"), 1);
  other->on_stop();
}

TEST_P(NotifyTest, AHostThatCannotTakeItNowGetsItOnALaterRound) {
  auto [id, secret] = create_key();
  host_->notes.set_unavailable(true);
  advance(24h * 91);
  round();
  EXPECT_TRUE(host_->notes.accepted().empty());
  EXPECT_EQ(rows("sent_at IS NULL"), 3);  // rotation_due, unused, this week's digest: claimed, unsent
  host_->notes.set_unavailable(false);
  restart_plugin();  // a pending row survives a restart too
  round();
  EXPECT_EQ(rows("sent_at IS NULL"), 0);
  std::set<std::string> keys;
  for (const auto& n : host_->notes.accepted()) keys.insert(n.key);
  EXPECT_EQ(keys.size(), 3u);
  EXPECT_EQ(sent_with(key_part(id, "rotation_due")), 2u);  // one unavailable call, one accepted
}

TEST_P(NotifyTest, WeeklyDigestOnlyWithSomethingToDoOncePerWeek) {
  auto [fresh, fresh_secret] = create_key("fresh", R"(["read"])");
  decide_key(fresh_secret, "read", 200);
  round();
  EXPECT_EQ(sent_with("/digest/"), 0u);  // a new, used key: nothing to do
  auto [idle, idle_secret] = create_key("idle", R"(["read"])", admin_b());
  advance(24h * 31);
  decide_key(fresh_secret, "read", 200);
  round();
  round();
  const auto all = host_->notes.accepted();
  std::vector<host::Notification> digests;
  for (const auto& n : all)
    if (n.key.find("/digest/") != std::string::npos) digests.push_back(n);
  ASSERT_EQ(digests.size(), 1u);  // clinic B's idle key; clinic A has nothing to do
  EXPECT_EQ(digests[0].clinic_id, kClinicB);
  EXPECT_NE(digests[0].body.find("Revoke \"idle\""), std::string::npos) << digests[0].body;
  EXPECT_NE(digests[0].body.find("1 active API key"), std::string::npos) << digests[0].body;
  advance(24h * 7);  // next week: the idle key is still there, so a new digest
  round();
  EXPECT_EQ(sent_with("/digest/"), 2u);
}

TEST_P(NotifyTest, AKeyRevokedByALeakReportIsToldOnce) {
  auto [id, secret] = create_key("Website widget");
  auto [other, other_secret] = create_key("revoked by hand");
  ASSERT_EQ(call("POST", "keys/" + std::to_string(other) + "/revoke").status, 200);
  {
    // What the leaked-key report does to the row (routes of the leak report, migration 0003).
    std::size_t token = 0;
    soci::session* s = host_->db->borrow(5s, token);
    long long at = plugin_->context()->now_seconds(), key = id;
    *s << "UPDATE api_access_keys SET revoked_at = :a, revoked_reason = 'leak_report' WHERE id = :k", soci::use(at),
        soci::use(key);
    host_->db->give_back(token);
  }
  round();
  round();
  restart_plugin();
  round();
  EXPECT_EQ(sent_with(key_part(id, "revoked_leak")), 1u);
  EXPECT_EQ(sent_with(key_part(other, "revoked_leak")), 0u);  // an admin's own revocation is no news
  const auto all = host_->notes.accepted();
  auto leak = std::find_if(all.begin(), all.end(), [&](const host::Notification& n) {
    return n.key.find(key_part(id, "revoked_leak")) != std::string::npos;
  });
  ASSERT_NE(leak, all.end());
  EXPECT_EQ(leak->severity, host::NotificationSeverity::danger);
  EXPECT_NE(leak->subject.find("reported as leaked"), std::string::npos) << leak->subject;
}

// A clinic west of UTC: its evening is already the next UTC day. A spike in that evening counts
// on the clinic's day (like its usage) and is told with the clinic's date, and the expiry
// reminder names the clinic's local time.
TEST_P(NotifyTest, SpikesAndRemindersFollowTheClinicsDays) {
  host_->dir.clinics[kClinicA].time_zone = "America/Los_Angeles";
  restart_plugin();  // a fresh zone cache
  auto [id, secret] = create_key("widget", R"(["read"])");
  decide_key(secret, "read", 200);  // 2026-11-26 01:30 in Los Angeles (09:30 UTC): 1 request
  advance(24h);
  decide_key(secret, "read", 200);  // 2026-11-27 01:30 there: 1 request
  advance(16h + 30min);             // 2026-11-27 18:00 there, 2026-11-28 02:00 UTC
  for (int i = 0; i < 30; ++i) decide_key(secret, "read", 200);
  round();
  EXPECT_EQ(sent_with(key_part(id, "spike/2026-11-27")), 1u);
  EXPECT_EQ(sent_with(key_part(id, "spike/2026-11-28")), 0u);

  auto r = call("POST", "keys", R"({"label":"expiring","expires_at":"2026-12-01T20:00:00Z"})");
  ASSERT_EQ(r.status, 201) << r.body;
  const auto exp_id = r.json.at("key").at("id").as_int64();
  round();
  const auto all = host_->notes.accepted();
  auto exp = std::find_if(all.begin(), all.end(), [&](const host::Notification& n) {
    return n.key.find(key_part(exp_id, "expiring_soon")) != std::string::npos;
  });
  ASSERT_NE(exp, all.end());
  EXPECT_NE(exp->body.find("stops working at 2026-12-01 12:00 PST"), std::string::npos) << exp->body;
}

// While the host cannot say which day it is at a clinic (its directory is down and the plugin
// never heard the clinic's zone), the clinic's keys wait for a later check; nothing is judged on
// a guessed day, and nothing is lost.
TEST_P(NotifyTest, AClinicWhoseZoneTheHostCannotTellIsCheckedLater) {
  auto [idle, idle_secret] = create_key("idle");
  restart_plugin();  // forgets the zone the create looked up
  host_->dir.unavailable = true;
  advance(24h * 31);
  round();
  round();
  EXPECT_EQ(sent_with(key_part(idle, "unused")), 0u);
  host_->dir.unavailable = false;
  round();
  EXPECT_EQ(sent_with(key_part(idle, "unused")), 1u);
}

TEST(NoticeRules, IsoWeeks) {
  auto day = [](int y, unsigned m, unsigned d) {
    return static_cast<DayNumber>(std::chrono::sys_days{std::chrono::year{y} / m / d}.time_since_epoch().count());
  };
  EXPECT_EQ(iso_week(day(2026, 12, 5)), "2026-W49");
  EXPECT_EQ(iso_week(day(2027, 1, 1)), "2026-W53");  // a Friday: still the last week of 2026
  EXPECT_EQ(iso_week(day(2024, 12, 30)), "2025-W01");
  EXPECT_EQ(iso_week(day(2026, 1, 4)), "2026-W01");
  // The digest's week is the clinic's: Sunday noon in UTC is already Monday in Auckland.
  const Micros sunday_noon_utc =
      std::chrono::duration_cast<std::chrono::microseconds>(
          (std::chrono::sys_days{std::chrono::year{2026} / 11 / 29} + std::chrono::hours(12)).time_since_epoch())
          .count();
  EXPECT_EQ(digest_key(ClinicZone(), sunday_noon_utc), "digest/2026-W48");
  const auto auckland = ClinicZone::find("Pacific/Auckland");
  ASSERT_TRUE(auckland);
  EXPECT_EQ(digest_key(*auckland, sunday_noon_utc), "digest/2026-W49");
}

INSTANTIATE_TEST_SUITE_P(Dialects, NotifyTest,
                         ::testing::Values(host::Dialect::sqlite, host::Dialect::postgresql),
                         param_name);

}  // namespace
}  // namespace mdp::api_access::test
