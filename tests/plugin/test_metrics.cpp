// The plugin's metrics where the database fails (a FaultyDatabase under the plugin): a usage
// flush that cannot write is counted and what waits is shown, and comes back to 0 once written;
// a key lookup the database cannot answer is timed as unavailable. Read from the devhost's own
// registry (TestHost::metrics_), as GET /metrics would show it.
#include <botan/system_rng.h>

#include "keys/key_format.hpp"
#include "plugin_context.hpp"
#include "plugin_test_host.hpp"
#include "support/metrics_text.hpp"

namespace mdp::api_access::test {
namespace {

using mdp::test::sample;
using mdp::test::value_or_zero;

class MetricsTest : public PluginTest {
 protected:
  std::string scrape() { return host_->metrics_.exposition(); }
};

TEST_P(MetricsTest, AFailedFlushIsCountedShowsWhatWaitsAndClearsOnceWritten) {
  auto [id, secret] = create_key();
  for (int i = 0; i < 3; ++i) decide_key(secret);
  ASSERT_TRUE(plugin_->context()->flush_usage());
  std::string text = scrape();
  EXPECT_EQ(sample(text, "mdp_api_access_usage_pending_requests"), 0.0);
  const double failures_before = value_or_zero(text, "mdp_api_access_usage_flush_failures_total");

  host_->faults->set_down(true);
  for (int i = 0; i < 7; ++i) decide_key(secret);
  EXPECT_FALSE(plugin_->context()->flush_usage());
  text = scrape();
  EXPECT_GE(value_or_zero(text, "mdp_api_access_usage_flush_failures_total"), failures_before + 1);
  EXPECT_EQ(sample(text, "mdp_api_access_usage_pending_requests"), 7.0);
  EXPECT_EQ(sample(text, "mdp_api_access_usage_pending_key_days"), 1.0);
  // Every attempt is timed, failed or not.
  EXPECT_GE(value_or_zero(text, "mdp_api_access_usage_flush_seconds_count"),
            value_or_zero(text, "mdp_api_access_usage_flush_failures_total"));

  host_->faults->set_down(false);
  ASSERT_TRUE(plugin_->context()->flush_usage());
  text = scrape();
  EXPECT_EQ(sample(text, "mdp_api_access_usage_pending_requests"), 0.0);
  EXPECT_EQ(sample(text, "mdp_api_access_usage_pending_key_days"), 0.0);
}

TEST_P(MetricsTest, ALookupTheDatabaseCannotAnswerIsTimedAsUnavailable) {
  auto [id, secret] = create_key();
  restart_plugin();  // in the database, not in this process's cache
  const std::string unavailable = "mdp_api_access_key_lookup_seconds_count{outcome=\"unavailable\"}";
  const std::string refused = "mdp_api_access_decisions_total{code=\"service_unavailable\"}";
  const std::string before = scrape();
  host_->faults->set_down(true);
  EXPECT_EQ(decide_key(secret).status, 503);
  host_->faults->set_down(false);
  const std::string after = scrape();
  EXPECT_EQ(value_or_zero(after, unavailable) - value_or_zero(before, unavailable), 1.0);
  EXPECT_EQ(value_or_zero(after, refused) - value_or_zero(before, refused), 1.0);
}

// A refusal code the hook did not answer at load (one added later, e.g. rate_limited) gets its
// own series at its first use; a body without a code counts as "other".
TEST_P(MetricsTest, ACodeMetForTheFirstTimeGetsItsOwnSeries) {
  PluginMetrics& m = plugin_->context()->metrics;
  const std::string before = scrape();
  // Codes the hook answers show at 0 from load; one it has never answered has no series yet.
  EXPECT_EQ(sample(before, "mdp_api_access_decisions_total{code=\"rate_limited\"}"), 0.0);
  EXPECT_EQ(sample(before, "mdp_api_access_decisions_total{code=\"code_of_a_later_version\"}"), std::nullopt);
  host::ApiDecision d;
  d.status = 400;
  d.body = R"({"error":{"code":"code_of_a_later_version","message":"New."}})";
  m.decided(d);
  m.decided(d);
  d.status = 429;
  d.body = R"({"error":{"code":"rate_limited","message":"Slow down."}})";
  m.decided(d);
  d.body = "not json";
  m.decided(d);
  const std::string after = scrape();
  EXPECT_EQ(sample(after, "mdp_api_access_decisions_total{code=\"code_of_a_later_version\"}"), 2.0);
  EXPECT_EQ(sample(after, "mdp_api_access_decisions_total{code=\"rate_limited\"}"), 1.0);
  EXPECT_EQ(sample(after, "mdp_api_access_throttled_total{reason=\"rate_limit\"}"), 1.0);
  EXPECT_EQ(value_or_zero(after, "mdp_api_access_decisions_total{code=\"other\"}") -
                value_or_zero(before, "mdp_api_access_decisions_total{code=\"other\"}"),
            1.0);
}

TEST(PluginMetricsCode, ReadsTheCodeOfAnErrorBodyAndNothingElse) {
  EXPECT_EQ(PluginMetrics::code_of(R"({"error":{"code":"revoked_api_key","message":"x"}})"),
            "revoked_api_key");
  EXPECT_EQ(PluginMetrics::code_of(""), "");
  EXPECT_EQ(PluginMetrics::code_of(R"({"error":{"code":"unterminated)"), "");
  EXPECT_EQ(PluginMetrics::code_of(R"({"error":{"code":"Not A Code"}})"), "");
  EXPECT_EQ(PluginMetrics::code_of(R"({"error":{"code":")" + std::string(70, 'a') + R"("}})"), "")
      << "longer than any code";
}

INSTANTIATE_TEST_SUITE_P(Dialects, MetricsTest,
                         ::testing::Values(host::Dialect::sqlite, host::Dialect::postgresql),
                         param_name);

}  // namespace
}  // namespace mdp::api_access::test
