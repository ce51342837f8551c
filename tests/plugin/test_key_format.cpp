// The key grammar (keys/key_format.hpp) and the pooled hashers (auth/hasher_pool.hpp).
#include <atomic>
#include <cctype>
#include <set>
#include <thread>

#include <botan/system_rng.h>
#include <gtest/gtest.h>

#include "auth/hasher_pool.hpp"
#include "keys/key_format.hpp"

namespace mdp::api_access {
namespace {

std::string fresh_key() {
  Botan::System_RNG rng;
  return generate_key(rng);
}

TEST(KeyFormat, GeneratedKeyFollowsTheGrammar) {
  for (int i = 0; i < 200; ++i) {
    const std::string k = fresh_key();
    ASSERT_EQ(k.size(), kKeyLength);
    EXPECT_LE(k.size(), 64u);
    EXPECT_EQ(k.substr(0, 4), "mdp_");
    EXPECT_TRUE(matches_grammar(k)) << k;
    EXPECT_TRUE(checksum_ok(k)) << k;
    EXPECT_EQ(k.find_first_of("+/=-"), std::string::npos) << k;
    for (char c : k.substr(4)) EXPECT_TRUE((c >= 'A' && c <= 'Z') || (c >= '2' && c <= '7')) << k;
  }
}

TEST(KeyFormat, KeysAreDistinct) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(seen.insert(fresh_key()).second);
}

TEST(KeyFormat, EverySingleCharacterChangeFailsTheChecksum) {
  const std::string k = fresh_key();
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  for (std::size_t i = 4; i < k.size(); ++i) {
    for (char c : alphabet) {
      if (c == k[i]) continue;
      std::string typo = k;
      typo[i] = c;
      EXPECT_FALSE(checksum_ok(typo)) << "position " << i << " -> " << c;
    }
  }
}

TEST(KeyFormat, TruncatedOrExtendedKeysAreRejected) {
  const std::string k = fresh_key();
  for (std::size_t n = 0; n < k.size(); ++n) {
    EXPECT_FALSE(matches_grammar(k.substr(0, n)));
    EXPECT_FALSE(checksum_ok(k.substr(0, n)));
  }
  EXPECT_FALSE(matches_grammar(k + "A"));
  EXPECT_FALSE(matches_grammar(k + " "));
}

TEST(KeyFormat, GrammarRejectsOtherShapes) {
  const std::string k = fresh_key();
  std::string lower = k;
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  EXPECT_FALSE(matches_grammar(lower));
  EXPECT_FALSE(matches_grammar("MDP_" + k.substr(4)));
  EXPECT_FALSE(matches_grammar("mdx_" + k.substr(4)));
  std::string with_one = k;
  with_one[10] = '1';  // not in the base32 alphabet
  EXPECT_FALSE(matches_grammar(with_one));
  std::string with_nul = k;
  with_nul[20] = '\0';
  EXPECT_FALSE(matches_grammar(with_nul));
  EXPECT_FALSE(matches_grammar(""));
  EXPECT_FALSE(checksum_ok(std::string(62, 'A')));
}

TEST(KeyFormat, TheStoredHashIsNeverAKey) {
  const std::string k = fresh_key();
  const std::string stored = to_hex(digest_of(k));
  EXPECT_EQ(stored.size(), 64u);
  EXPECT_FALSE(matches_grammar(stored));
  EXPECT_FALSE(matches_grammar("mdp_" + stored));
  EXPECT_FALSE(matches_grammar("mdp_" + stored.substr(0, 58)));
  EXPECT_FALSE(checksum_ok(stored));
}

TEST(KeyFormat, PreviewShowsPrefixAndLastFour) {
  const std::string k = fresh_key();
  EXPECT_EQ(preview_of(k), "mdp_\xE2\x80\xA6" + k.substr(k.size() - 4));
}

TEST(KeyFormat, DigestIsSha256OfTheKeyText) {
  EXPECT_EQ(to_hex(digest_of("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const auto d = digest_of("abc");
  EXPECT_EQ(digest_from_hex(to_hex(d)), d);
  EXPECT_FALSE(digest_from_hex("zz"));
  EXPECT_FALSE(digest_from_hex(std::string(64, 'g')));
}

TEST(HasherPool, MatchesTheUnpooledFunctions) {
  HasherPool pool;
  for (int i = 0; i < 100; ++i) {
    const std::string k = fresh_key();
    EXPECT_EQ(pool.sha256(k), digest_of(k));
    EXPECT_TRUE(pool.checksum_ok(k));
    std::string typo = k;
    typo[30] = typo[30] == 'A' ? 'B' : 'A';
    EXPECT_FALSE(pool.checksum_ok(typo));
  }
}

TEST(HasherPool, ManyThreadsAtOnceGetCorrectDigests) {
  HasherPool pool;
  const std::string k = fresh_key();
  const Digest want = digest_of(k);
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 48; ++t)  // more threads than slots: some take the unpooled fallback
    threads.emplace_back([&] {
      for (int i = 0; i < 2000; ++i)
        if (pool.sha256(k) != want) ++wrong;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(wrong.load(), 0);
}

}  // namespace
}  // namespace mdp::api_access
