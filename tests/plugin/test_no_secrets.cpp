// Nothing at rest holds a key: after creating and rotating keys, a dump of every table of the
// database contains no key and no piece of one beyond the preview's last 4 characters.
#include "keys/key_format.hpp"
#include "plugin_test_host.hpp"

namespace mdp::api_access::test {
namespace {

class NoSecretsTest : public PluginTest {};

TEST_P(NoSecretsTest, DatabaseDumpHoldsNoSecret) {
  std::vector<std::string> secrets;
  for (int i = 0; i < 5; ++i) secrets.push_back(create_key("key " + std::to_string(i)).second);
  auto [id, s] = create_key("to rotate");
  secrets.push_back(s);
  auto r = call("POST", "keys/" + std::to_string(id) + "/rotate", R"({"grace_seconds":60})");
  secrets.emplace_back(r.json.at("secret").as_string());
  for (const auto& k : secrets) decide_key(k);
  call("POST", "keys/" + std::to_string(id) + "/revoke");
  plugin_->background_tick();
  advance(std::chrono::seconds(61));
  call("GET", "events");

  const std::string dump = host_->dump_database();
  ASSERT_NE(dump.find("api_access_keys"), std::string::npos);
  ASSERT_NE(dump.find("api_access_usage_daily"), std::string::npos);
  for (const auto& k : secrets) {
    EXPECT_EQ(dump.find(k), std::string::npos);
    // No 8-character window of the secret part appears anywhere (the preview shows 4).
    const std::string body = k.substr(4);
    for (std::size_t i = 0; i + 8 <= body.size(); ++i)
      ASSERT_EQ(dump.find(body.substr(i, 8)), std::string::npos) << "window at " << i;
    // The hash is there, and it is not a key.
    EXPECT_NE(dump.find(to_hex(digest_of(k))), std::string::npos);
    EXPECT_NE(dump.find(preview_of(k)), std::string::npos);
  }
  for (const auto& line : host_->log_.lines())
    for (const auto& k : secrets) EXPECT_EQ(line.find(k.substr(4, 12)), std::string::npos) << line;
}

INSTANTIATE_TEST_SUITE_P(Dialects, NoSecretsTest,
                         ::testing::Values(host::Dialect::sqlite, host::Dialect::postgresql),
                         param_name);

}  // namespace
}  // namespace mdp::api_access::test
