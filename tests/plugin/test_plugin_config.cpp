// The plugin's settings (plugin_config.hpp): the rate-limit defaults per plan and the exchange
// interval, their defaults, and the one-line refusal of a value out of range.
#include <gtest/gtest.h>

#include <map>
#include <stdexcept>
#include <string>

#include "plugin_config.hpp"

namespace {

using mdp::api_access::read_config;

using Values = std::map<std::string, std::string>;

class MapSettings final : public mdp::host::Settings {
 public:
  explicit MapSettings(std::map<std::string, std::string> v) : v_(std::move(v)) {}
  std::optional<std::string> value(std::string_view name) const noexcept override {
    auto it = v_.find(std::string(name));
    if (it == v_.end()) return std::nullopt;
    return it->second;
  }

 private:
  std::map<std::string, std::string> v_;
};

TEST(PluginConfig, RateLimitDefaultsPerPlan) {
  const auto c = read_config(MapSettings(Values{}));
  EXPECT_EQ(c.tier_rate_limit.requests, 600u);
  EXPECT_EQ(c.tier_rate_limit.per_seconds, 60u);
  EXPECT_EQ(c.addon_rate_limit.requests, 120u);
  EXPECT_EQ(c.addon_rate_limit.per_seconds, 60u);
  EXPECT_EQ(c.rate_limit_sync.count(), 1000);
}

TEST(PluginConfig, RateLimitSettingsAreNPerS) {
  const auto c = read_config(MapSettings(
      {{"rate_limit_tier", "5000/3600"}, {"rate_limit_addon", "1/1"}, {"rate_limit_sync_ms", "50"}}));
  EXPECT_EQ(c.tier_rate_limit.requests, 5000u);
  EXPECT_EQ(c.tier_rate_limit.per_seconds, 3600u);
  EXPECT_EQ(c.addon_rate_limit.requests, 1u);
  EXPECT_EQ(c.addon_rate_limit.per_seconds, 1u);
  EXPECT_EQ(c.rate_limit_sync.count(), 50);
}

TEST(PluginConfig, BadRateLimitSettingsRefuseTheLoadNamingTheSetting) {
  for (const char* bad : {"600", "600/", "/60", "0/60", "600/0", "1000001/60", "600/86401", "-1/60",
                          "600/60/1", "six/60", " 600/60"}) {
    try {
      read_config(MapSettings(Values{{"rate_limit_tier", bad}}));
      ADD_FAILURE() << "accepted rate_limit_tier=" << bad;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("rate_limit_tier"), std::string::npos) << e.what();
    }
  }
  EXPECT_THROW(read_config(MapSettings(Values{{"rate_limit_sync_ms", "49"}})), std::invalid_argument);
  EXPECT_THROW(read_config(MapSettings(Values{{"rate_limit_addon", "x"}})), std::invalid_argument);
}

}  // namespace
