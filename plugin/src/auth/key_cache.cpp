#include "auth/key_cache.hpp"

namespace mdp::api_access {

CacheEntry* KeyCache::find(const Digest& d) const noexcept {
  const Shard& s = shards_[shard_of(d)];
  std::shared_lock lock(s.mutex);
  auto it = s.map.find(d);
  return it == s.map.end() ? nullptr : it->second;
}

CacheEntry* KeyCache::insert(std::unique_ptr<CacheEntry> e) {
  Shard& s = shards_[shard_of(e->digest)];
  std::lock_guard registry(registry_mutex_);
  std::unique_lock lock(s.mutex);
  if (auto it = s.map.find(e->digest); it != s.map.end()) return it->second;
  CacheEntry* raw = e.get();
  owned_.push_back(std::move(e));
  by_id_[raw->key_id] = raw;
  s.map.emplace(raw->digest, raw);
  return raw;
}

CacheEntry* KeyCache::by_id(KeyId id) const {
  std::lock_guard registry(registry_mutex_);
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : it->second;
}

std::vector<CacheEntry*> KeyCache::entries() const {
  std::lock_guard registry(registry_mutex_);
  std::vector<CacheEntry*> out;
  out.reserve(owned_.size());
  for (const auto& e : owned_) out.push_back(e.get());
  return out;
}

std::size_t KeyCache::size() const {
  std::lock_guard registry(registry_mutex_);
  return owned_.size();
}

}  // namespace mdp::api_access
