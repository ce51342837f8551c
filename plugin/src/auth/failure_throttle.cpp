#include "auth/failure_throttle.hpp"

#include <algorithm>
#include <cmath>
#include <functional>

namespace mdp::api_access {

namespace {
std::uint64_t address_key(std::string_view address) {
  return std::hash<std::string_view>{}(address);
}
}  // namespace

double FailureThrottle::drained(const Bucket& b, Micros now) noexcept {
  const double elapsed = now > b.at ? static_cast<double>(now - b.at) / 1e6 : 0.0;
  return std::max(0.0, b.score - elapsed);
}

FailureThrottle::Bucket& FailureThrottle::bucket(Shard& s, std::uint64_t key, Micros now) {
  auto it = s.buckets.find(key);
  if (it != s.buckets.end()) {
    it->second.score = drained(it->second, now);
    it->second.at = now;
    return it->second;
  }
  if (s.buckets.size() >= kPerShard) {
    // Full: forget every drained address; if none, the one with the lowest score.
    std::erase_if(s.buckets, [&](const auto& kv) { return drained(kv.second, now) == 0.0; });
    if (s.buckets.size() >= kPerShard)
      s.buckets.erase(std::min_element(s.buckets.begin(), s.buckets.end(), [&](const auto& a, const auto& b) {
        return drained(a.second, now) < drained(b.second, now);
      }));
  }
  return s.buckets.emplace(key, Bucket{0, now}).first->second;
}

int FailureThrottle::retry_after(std::string_view address, Micros now) {
  const std::uint64_t key = address_key(address);
  Shard& s = shards_[key % kShards];
  std::lock_guard guard(s.mutex);
  auto it = s.buckets.find(key);
  if (it == s.buckets.end() || drained(it->second, now) < kLimit) return 0;
  Bucket& b = bucket(s, key, now);
  b.score = std::min(kMaxScore, b.score + 1);
  return static_cast<int>(std::ceil(b.score - kLimit + 1));
}

void FailureThrottle::failed(std::string_view address, Micros now) {
  const std::uint64_t key = address_key(address);
  Shard& s = shards_[key % kShards];
  std::lock_guard guard(s.mutex);
  Bucket& b = bucket(s, key, now);
  b.score = std::min(kMaxScore, b.score + 1);
}

}  // namespace mdp::api_access
