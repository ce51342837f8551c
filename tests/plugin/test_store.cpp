// KeyStore on SQLite and PostgreSQL (keys/key_store.hpp): records, isolation, revoke, rotate,
// events, expiry sweep, change feed.
#include "plugin_test_host.hpp"
#include "plugin_context.hpp"

namespace mdp::api_access::test {
namespace {

class StoreTest : public PluginTest {
 protected:
  KeyStore& store() { return plugin_->context()->keys; }
  NewKey key(host::ClinicId clinic, std::string label, std::string hash) {
    NewKey k;
    k.clinic_id = clinic;
    k.label = std::move(label);
    k.scopes = {"read", "appointments:write"};
    k.key_hash = std::move(hash);
    k.preview = "mdp_\xE2\x80\xA6WXYZ";
    k.created_by = {11, "Olivia Hart"};
    k.created_at = plugin_->context()->now();
    return k;
  }
};

TEST_P(StoreTest, CreateThenReadBack) {
  const std::string label = "Power BI sync \xE2\x80\x94 caf\xC3\xA9 '; DROP TABLE api_access_keys; -- <b>";
  const auto rec = store().create(key(kClinicA, label, std::string(64, 'a')));
  EXPECT_GT(rec.id, 0);
  const auto got = store().get(kClinicA, rec.id);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->label, label);
  EXPECT_EQ(got->scopes, (std::vector<std::string>{"read", "appointments:write"}));
  EXPECT_EQ(got->preview, "mdp_\xE2\x80\xA6WXYZ");
  EXPECT_EQ(got->created_by.id, 11);
  EXPECT_EQ(got->created_by.name, "Olivia Hart");
  EXPECT_FALSE(got->revoked_at);
  EXPECT_FALSE(got->expires_at);
  EXPECT_FALSE(got->last_used_at);
  EXPECT_EQ(got->status_at(plugin_->context()->now()), KeyStatus::active);
}

TEST_P(StoreTest, ClinicsNeverSeeEachOthersKeys) {
  const auto a = store().create(key(kClinicA, "a", std::string(64, 'a')));
  const auto b = store().create(key(kClinicB, "b", std::string(64, 'b')));
  EXPECT_FALSE(store().get(kClinicB, a.id));
  EXPECT_FALSE(store().get(kClinicA, b.id));
  ASSERT_EQ(store().list(kClinicA).size(), 1u);
  EXPECT_EQ(store().list(kClinicA)[0].id, a.id);
  EXPECT_FALSE(store().revoke(kClinicB, a.id, {21, "Dan"}, 1));
  EXPECT_FALSE(store().get(kClinicA, a.id)->revoked_at);
  EXPECT_TRUE(store().events(kClinicB).size() == 1);  // only b's "created"
}

TEST_P(StoreTest, ListIsNewestFirst) {
  std::vector<KeyId> ids;
  for (int i = 0; i < 3; ++i) {
    ids.push_back(store().create(key(kClinicA, "k" + std::to_string(i), std::string(64, char('a' + i)))).id);
    advance(std::chrono::seconds(1));
  }
  const auto list = store().list(kClinicA);
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[0].id, ids[2]);
  EXPECT_EQ(list[2].id, ids[0]);
}

TEST_P(StoreTest, DuplicateHashIsRefusedByTheDatabase) {
  store().create(key(kClinicA, "a", std::string(64, 'a')));
  EXPECT_ANY_THROW(store().create(key(kClinicB, "b", std::string(64, 'a'))));
}

TEST_P(StoreTest, RevokeIsIdempotentAndRecordedOnce) {
  const auto rec = store().create(key(kClinicA, "a", std::string(64, 'a')));
  const auto first = store().revoke(kClinicA, rec.id, {11, "Olivia Hart"}, 1000);
  ASSERT_TRUE(first && first->revoked_at);
  EXPECT_EQ(*first->revoked_at, 1000);
  EXPECT_EQ(first->revoked_by->name, "Olivia Hart");
  const auto second = store().revoke(kClinicA, rec.id, {12, "Someone Else"}, 2000);
  ASSERT_TRUE(second);
  EXPECT_EQ(*second->revoked_at, 1000);
  EXPECT_EQ(second->revoked_by->id, 11);
  int revoked_events = 0;
  for (const auto& e : store().events(kClinicA)) revoked_events += e.type == "revoked";
  EXPECT_EQ(revoked_events, 1);
}

TEST_P(StoreTest, RotateCopiesLabelAndScopesAndShortensTheOldKey) {
  const auto old = store().create(key(kClinicA, "Website widget", std::string(64, 'a')));
  NewKey nk = key(kClinicA, "ignored", std::string(64, 'b'));
  nk.scopes = {"patients:write"};
  const Micros until = plugin_->context()->now() + 3600 * kMicrosPerSecond;
  const auto pair = store().rotate(old.id, nk, until);
  ASSERT_TRUE(pair);
  EXPECT_EQ(pair->first.label, "Website widget");
  EXPECT_EQ(pair->first.scopes, old.scopes);
  EXPECT_EQ(pair->first.rotated_from, old.id);
  EXPECT_EQ(pair->second.expires_at, until);
  // Another clinic cannot rotate it.
  NewKey other = key(kClinicB, "x", std::string(64, 'c'));
  EXPECT_FALSE(store().rotate(old.id, other, std::nullopt));
}

TEST_P(StoreTest, ExpirySweepRecordsOneSystemEventPerKey) {
  NewKey k = key(kClinicA, "short", std::string(64, 'a'));
  k.expires_at = plugin_->context()->now() + 60 * kMicrosPerSecond;
  const auto rec = store().create(k);
  EXPECT_EQ(store().sweep_expired(plugin_->context()->now()), 0u);
  advance(std::chrono::seconds(61));
  EXPECT_EQ(store().sweep_expired(plugin_->context()->now()), 1u);
  EXPECT_EQ(store().sweep_expired(plugin_->context()->now()), 0u);
  const auto events = store().events(kClinicA);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].type, "expired");
  EXPECT_EQ(events[0].key_id, rec.id);
  EXPECT_FALSE(events[0].actor);
  EXPECT_EQ(events[0].at, *k.expires_at);
}

TEST_P(StoreTest, ChangeFeedNamesRevokedAndShortenedKeys) {
  const auto start = store().latest_change();
  const auto a = store().create(key(kClinicA, "a", std::string(64, 'a')));
  store().revoke(kClinicA, a.id, {11, "O"}, 5);
  const auto changes = store().changes_after(start);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].second, a.id);
  EXPECT_EQ(store().latest_change(), changes[0].first);
  const auto st = store().state(a.id);
  ASSERT_TRUE(st);
  EXPECT_EQ(st->revoked_at, 5);
}

TEST_P(StoreTest, ChangeFeedIsTrimmedToTheNewestRows) {
  for (int i = 0; i < 5; ++i) {
    const auto k = store().create(key(kClinicA, "k", std::string(64, char('a' + i))));
    store().revoke(kClinicA, k.id, {11, "O"}, 5);
  }
  const auto last = store().latest_change();
  store().trim_changes(2);
  const auto left = store().changes_after(0);
  ASSERT_EQ(left.size(), 2u);
  EXPECT_EQ(left.back().first, last);
}

INSTANTIATE_TEST_SUITE_P(Dialects, StoreTest,
                         ::testing::Values(host::Dialect::sqlite, host::Dialect::postgresql),
                         param_name);

}  // namespace
}  // namespace mdp::api_access::test
