// Per client address: how many invalid keys it has presented lately, and whether it must wait
// before any key of it that the cache does not know is looked up again.
//
// A leaky bucket per address: each invalid key adds 1, the score drains by 1 per second (so a
// client that mistypes now and then is never throttled). Once the score reaches kLimit, keys
// the cache does not know are refused with 429 too_many_failed_attempts before any lookup,
// with Retry-After = the seconds until the score is back under the limit; every refused attempt
// adds 1 too, so a client that keeps flooding waits longer and longer (up to kMaxScore seconds)
// while one that stops is let through again after a short pause.
// A key the cache knows (an integration that works) is never looked at here: the hook checks
// the cache first, so throttling an address never refuses its valid integration.
//
// Time is the host clock (tests move it). Bounded: 16 shards of at most 4,096 addresses; when
// a shard is full, addresses whose score has drained to zero go first, then the lowest scores.
// Threads: any; a short per-shard lock, only on the path of keys the cache did not know.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <string_view>
#include <unordered_map>

#include "keys/key_record.hpp"

namespace mdp::api_access {

class FailureThrottle {
 public:
  static constexpr double kLimit = 20;       // invalid keys in a burst before refusals start
  static constexpr double kMaxScore = 600;   // longest wait, in seconds
  static constexpr std::size_t kShards = 16;
  static constexpr std::size_t kPerShard = 4096;

  // 0 when `address` may look a key up now; otherwise the seconds it must wait (and the attempt
  // counts as one more failure).
  int retry_after(std::string_view address, Micros now);
  // `address` presented an invalid key.
  void failed(std::string_view address, Micros now);

 private:
  struct Bucket {
    double score = 0;
    Micros at = 0;  // when `score` was last brought up to date
  };
  struct alignas(64) Shard {
    std::mutex mutex;
    std::unordered_map<std::uint64_t, Bucket> buckets;
  };
  static double drained(const Bucket& b, Micros now) noexcept;
  Bucket& bucket(Shard& s, std::uint64_t key, Micros now);  // under s.mutex
  std::array<Shard, kShards> shards_;
};

}  // namespace mdp::api_access
