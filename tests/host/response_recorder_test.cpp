// The devhost's --record-responses (app/response_recorder.hpp): one whole JSON line per answer,
// only the listed headers, and never an API key: every key, wherever it appears, becomes the
// placeholder, which the plugin's own key format refuses (its checksum never matches).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include <boost/json.hpp>
#include <botan/system_rng.h>

#include "app/response_recorder.hpp"
#include "keys/key_format.hpp"
#include "support/temp_dir.hpp"

namespace mdp::devhost {
namespace {

namespace json = boost::json;

std::vector<std::string> lines_of(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

TEST(ResponseRecorder, ThePlaceholderHasAKeysFormatButCannotAuthenticate) {
  EXPECT_TRUE(api_access::matches_grammar(kRecordedKeyPlaceholder));
  EXPECT_FALSE(api_access::checksum_ok(kRecordedKeyPlaceholder));
}

TEST(ResponseRecorder, MasksEveryKeyAndKeepsTheRest) {
  Botan::System_RNG rng;
  const std::string key = api_access::generate_key(rng), other = api_access::generate_key(rng);
  ASSERT_TRUE(api_access::checksum_ok(key));
  std::string text = R"({"key":{"preview":"mdp_…)" + key.substr(58) + R"("},"secret":")" + key +
                     R"(","echo":"x)" + other + R"(y","short":"mdp_ABC"})";
  mask_api_keys(text);
  EXPECT_EQ(text.find(key), std::string::npos);
  EXPECT_EQ(text.find(other.substr(4)), std::string::npos);
  EXPECT_NE(text.find(R"("secret":")" + std::string(kRecordedKeyPlaceholder) + "\""), std::string::npos);
  EXPECT_NE(text.find("mdp_ABC"), std::string::npos);          // not a key: kept
  EXPECT_NE(text.find(key.substr(58)), std::string::npos);     // the preview's 4 characters: kept
  // A longer run of base32 holds a key too: masked whole.
  std::string longer = key + "ABCD";
  mask_api_keys(longer);
  EXPECT_EQ(longer, kRecordedKeyPlaceholder);
}

TEST(ResponseRecorder, WritesOneWholeLinePerAnswerWithTheKeptHeadersOnly) {
  test::TempDir dir;
  const auto file = dir.path() / "answers.jsonl";
  Botan::System_RNG rng;
  const std::string key = api_access::generate_key(rng);
  {
    ResponseRecorder recorder(file.string());
    HttpResponse created{201, "application/json", R"({"secret":")" + key + R"("})",
                         {{"Cache-Control", "no-store"}, {"Set-Cookie", "mdp_session=s3cret"}}};
    recorder.record("POST", "/plugins/api-access/keys", created);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
      threads.emplace_back([&recorder] {
        HttpResponse big{200, "text/csv; charset=utf-8", std::string(20000, 'x'), {{"retry-after", "2"}}};
        for (int i = 0; i < 25; ++i) recorder.record("GET", "/api/v1/ping", big);
      });
    for (auto& t : threads) t.join();
  }
  const auto lines = lines_of(file);
  ASSERT_EQ(lines.size(), 101u);
  const json::value first = json::parse(lines[0]);
  EXPECT_EQ(first.at("method"), "POST");
  EXPECT_EQ(first.at("route"), "/plugins/api-access/keys");
  EXPECT_EQ(first.at("status"), 201);
  EXPECT_EQ(first.at("content_type"), "application/json");
  EXPECT_EQ(first.at("headers"), json::parse(R"({"Cache-Control":"no-store"})"));
  EXPECT_EQ(json::parse(first.at("body").as_string()).at("secret").as_string(), kRecordedKeyPlaceholder);
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const json::value v = json::parse(lines[i]);  // whole lines: concurrent answers never interleave
    EXPECT_EQ(v.at("body").as_string().size(), 20000u);
    EXPECT_EQ(v.at("headers").at("Retry-After"), "2");
  }
  std::ifstream in(file);
  std::stringstream all;
  all << in.rdbuf();
  EXPECT_EQ(all.str().find(key), std::string::npos);
  EXPECT_EQ(all.str().find("s3cret"), std::string::npos);
}

TEST(ResponseRecorder, AFileThatCannotBeOpenedIsAnError) {
  EXPECT_THROW(ResponseRecorder("/nonexistent-folder/answers.jsonl"), std::runtime_error);
}

}  // namespace
}  // namespace mdp::devhost
