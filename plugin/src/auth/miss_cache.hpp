// Digests of well-formed keys the database did not hold: a forged key (anyone can compute a
// valid checksum) costs one database lookup, and its repeats cost none.
//
// Safe to remember: keys are 256 random bits, so a key created later never has a digest seen
// before, and a key's row is never re-created once gone. Bounded: 16 shards of at most 4,096
// digests each, the oldest forgotten first (a forgotten digest only costs one more lookup).
// Threads: any; a short per-shard lock, taken only on the path of keys the cache did not know.
#pragma once

#include <array>
#include <cstddef>
#include <deque>
#include <mutex>
#include <unordered_set>

#include "auth/key_cache.hpp"

namespace mdp::api_access {

class MissCache {
 public:
  static constexpr std::size_t kShards = 16;
  static constexpr std::size_t kPerShard = 4096;

  bool contains(const Digest& d) const;
  void add(const Digest& d);
  std::size_t size() const;

 private:
  struct alignas(64) Shard {
    mutable std::mutex mutex;
    std::unordered_set<Digest, DigestHash> set;
    std::deque<Digest> order;  // oldest first
  };
  static std::size_t shard_of(const Digest& d) noexcept { return d[31] % kShards; }
  std::array<Shard, kShards> shards_;
};

}  // namespace mdp::api_access
