// Forged and mistyped keys (auth/miss_cache.hpp, auth/failure_throttle.hpp): a forged key with a
// valid checksum costs one database lookup and its repeats none; an address that keeps
// presenting invalid keys is refused with 429 before any lookup, growing, while a working key
// behind the same address keeps working and other addresses are untouched.
#include <botan/system_rng.h>

#include "keys/key_format.hpp"
#include "plugin_context.hpp"
#include "plugin_test_host.hpp"

namespace mdp::api_access::test {
namespace {

namespace json = boost::json;

class HostileTest : public PluginTest {
 protected:
  host::ApiDecision from(const std::string& address, const std::string& key) {
    FakeApiRequest r;
    r.client_address_ = address;
    r.bearer(key);
    return decide(r);
  }
  static std::string forged() { return generate_key(Botan::system_rng()); }
};

TEST_P(HostileTest, AForgedKeyCostsOneLookupAndItsRepeatsNone) {
  const std::string key = forged();  // a valid checksum: anyone can compute one
  EXPECT_EQ(code_of(from("198.51.100.1", key)), "invalid_api_key");
  // Take the database away from the hook entirely: what still answers needs no lookup.
  plugin_->context()->loader.close();
  host_->faults->set_down(true);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(code_of(from("198.51.100.1", key)), "invalid_api_key");
  EXPECT_EQ(from("198.51.100.1", forged()).status, 503);  // a new one would need the database
  host_->faults->set_down(false);
}

TEST_P(HostileTest, AnAddressThatKeepsPresentingInvalidKeysIsRefusedBeforeAnyLookup) {
  auto [id, secret] = create_key();
  ASSERT_TRUE(from("198.51.100.7", secret).allowed);  // its integration works, and is cached
  int invalid = 0;
  host::ApiDecision d;
  for (int i = 0; i < 100 && (d = from("198.51.100.7", forged())).status == 401; ++i) ++invalid;
  EXPECT_EQ(invalid, 20);  // FailureThrottle::kLimit
  EXPECT_EQ(d.status, 429);
  EXPECT_EQ(code_of(d), "too_many_failed_attempts");
  EXPECT_GE(d.retry_after, 1);
  // No lookup: even with the database gone the answer is the same 429, not 503.
  plugin_->context()->loader.close();
  host_->faults->set_down(true);
  EXPECT_EQ(from("198.51.100.7", forged()).status, 429);
  host_->faults->set_down(false);
  // The valid integration behind the same address keeps working; other addresses are untouched.
  EXPECT_TRUE(from("198.51.100.7", secret).allowed);
  EXPECT_EQ(code_of(from("203.0.113.9", forged())), "invalid_api_key");
  // Keeping at it makes the wait longer; stopping for that long lets lookups through again.
  int wait = 0;
  for (int i = 0; i < 30; ++i) wait = from("198.51.100.7", forged()).retry_after;
  EXPECT_GT(wait, d.retry_after);
  advance(std::chrono::seconds(wait + 1));
  EXPECT_EQ(code_of(from("198.51.100.7", forged())), "invalid_api_key");
}

TEST_P(HostileTest, MistypedAndMalformedKeysCountAgainstTheAddressToo) {
  auto [id, secret] = create_key();
  std::string typo = secret;
  typo[10] = typo[10] == 'A' ? 'B' : 'A';
  for (int i = 0; i < 10; ++i) EXPECT_EQ(code_of(from("192.0.2.50", typo)), "invalid_api_key");
  for (int i = 0; i < 10; ++i) EXPECT_EQ(code_of(from("192.0.2.50", "mdp_short")), "invalid_api_key");
  EXPECT_EQ(from("192.0.2.50", forged()).status, 429);
  // An occasional mistake drains away: one a second never reaches the limit.
  for (int i = 0; i < 60; ++i) {
    advance(std::chrono::seconds(2));
    EXPECT_EQ(from("192.0.2.51", typo).status, 401) << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Dialects, HostileTest,
                         ::testing::Values(host::Dialect::sqlite, host::Dialect::postgresql),
                         param_name);

}  // namespace
}  // namespace mdp::api_access::test
