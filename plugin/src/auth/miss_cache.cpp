#include "auth/miss_cache.hpp"

namespace mdp::api_access {

bool MissCache::contains(const Digest& d) const {
  const Shard& s = shards_[shard_of(d)];
  std::lock_guard guard(s.mutex);
  return s.set.count(d) != 0;
}

void MissCache::add(const Digest& d) {
  Shard& s = shards_[shard_of(d)];
  std::lock_guard guard(s.mutex);
  if (!s.set.insert(d).second) return;
  s.order.push_back(d);
  if (s.order.size() > kPerShard) {
    s.set.erase(s.order.front());
    s.order.pop_front();
  }
}

std::size_t MissCache::size() const {
  std::size_t n = 0;
  for (const auto& s : shards_) {
    std::lock_guard guard(s.mutex);
    n += s.set.size();
  }
  return n;
}

}  // namespace mdp::api_access
