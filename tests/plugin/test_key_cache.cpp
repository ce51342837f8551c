// The request hook's cache (auth/key_cache.hpp): lock-free lookups, growth, concurrent readers.
#include <atomic>
#include <random>
#include <thread>

#include <gtest/gtest.h>

#include "auth/key_cache.hpp"

namespace mdp::api_access {
namespace {

Digest random_digest(std::mt19937_64& rng) {
  Digest d;
  for (auto& b : d) b = static_cast<std::uint8_t>(rng());
  return d;
}

std::unique_ptr<CacheEntry> entry(const Digest& d, KeyId id) {
  auto e = std::make_unique<CacheEntry>();
  e->digest = d;
  e->key_id = id;
  return e;
}

TEST(KeyCache, FindsEveryEntryAcrossGrowth) {
  KeyCache cache;
  std::mt19937_64 rng(7);
  std::vector<Digest> digests;
  for (int i = 0; i < 20000; ++i) {
    digests.push_back(random_digest(rng));
    cache.insert(entry(digests.back(), i + 1));
  }
  EXPECT_EQ(cache.size(), 20000u);
  for (int i = 0; i < 20000; ++i) {
    CacheEntry* e = cache.find(digests[i]);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->key_id, i + 1);
    EXPECT_EQ(cache.by_id(i + 1), e);
  }
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(cache.find(random_digest(rng)), nullptr);
}

TEST(KeyCache, InsertingTheSameDigestTwiceKeepsTheFirstEntry) {
  KeyCache cache;
  std::mt19937_64 rng(8);
  const Digest d = random_digest(rng);
  CacheEntry* first = cache.insert(entry(d, 1));
  EXPECT_EQ(cache.insert(entry(d, 2)), first);
  EXPECT_EQ(cache.size(), 1u);
}

TEST(KeyCache, DigestsSharingTheirFirstBytesAreStillDistinct) {
  KeyCache cache;
  Digest a{}, b{};
  b[31] = 1;  // same hash (first 8 bytes), different digest
  cache.insert(entry(a, 1));
  cache.insert(entry(b, 2));
  EXPECT_EQ(cache.find(a)->key_id, 1);
  EXPECT_EQ(cache.find(b)->key_id, 2);
}

TEST(KeyCache, ReadersRunWhileTheTableGrows) {
  KeyCache cache;
  std::mt19937_64 rng(9);
  std::vector<Digest> digests;
  for (int i = 0; i < 8000; ++i) digests.push_back(random_digest(rng));
  for (int i = 0; i < 100; ++i) cache.insert(entry(digests[i], i + 1));
  std::atomic<bool> done{false};
  std::atomic<int> wrong{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t)
    readers.emplace_back([&] {
      while (!done.load()) {
        for (int i = 0; i < 100; ++i) {
          CacheEntry* e = cache.find(digests[i]);
          if (e == nullptr || e->key_id != i + 1) ++wrong;
        }
      }
    });
  for (int i = 100; i < 8000; ++i) cache.insert(entry(digests[i], i + 1));
  done = true;
  for (auto& r : readers) r.join();
  EXPECT_EQ(wrong.load(), 0);
}

}  // namespace
}  // namespace mdp::api_access
