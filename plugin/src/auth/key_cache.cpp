#include "auth/key_cache.hpp"

namespace mdp::api_access {

KeyCache::KeyCache() {
  for (auto& s : shards_) {
    s.generations.push_back(std::make_unique<Table>(kInitialCapacity));
    s.table.store(s.generations.back().get(), std::memory_order_release);
  }
}

CacheEntry* KeyCache::probe(const Table& t, const Digest& d) noexcept {
  // Tables are at most half full, so a probe always meets an empty slot.
  for (std::size_t i = DigestHash{}(d) & t.mask;; i = (i + 1) & t.mask) {
    CacheEntry* e = t.slots[i].load(std::memory_order_acquire);
    if (e == nullptr || e->digest == d) return e;
  }
}

CacheEntry* KeyCache::find(const Digest& d) const noexcept {
  const Shard& s = shards_[shard_of(d)];
  return probe(*s.table.load(std::memory_order_acquire), d);
}

CacheEntry* KeyCache::insert(std::unique_ptr<CacheEntry> e) {
  Shard& s = shards_[shard_of(e->digest)];
  std::lock_guard registry(registry_mutex_);
  std::lock_guard write(s.write_mutex);
  Table* t = s.table.load(std::memory_order_relaxed);
  if (CacheEntry* existing = probe(*t, e->digest)) return existing;
  if ((s.count + 1) * 2 > t->mask + 1) {
    // Grow: copy into a table twice the size, then publish it. Readers still on the old table
    // may miss an entry inserted from now on; they fall back to KeyLoader::load, which finds it
    // here (and never inserts twice).
    auto bigger = std::make_unique<Table>((t->mask + 1) * 2);
    for (std::size_t i = 0; i <= t->mask; ++i)
      if (CacheEntry* old = t->slots[i].load(std::memory_order_relaxed)) {
        std::size_t j = DigestHash{}(old->digest) & bigger->mask;
        while (bigger->slots[j].load(std::memory_order_relaxed) != nullptr) j = (j + 1) & bigger->mask;
        bigger->slots[j].store(old, std::memory_order_relaxed);
      }
    t = bigger.get();
    s.generations.push_back(std::move(bigger));
    s.table.store(t, std::memory_order_release);
  }
  CacheEntry* raw = e.get();
  owned_.push_back(std::move(e));
  by_id_[raw->key_id] = raw;
  std::size_t j = DigestHash{}(raw->digest) & t->mask;
  while (t->slots[j].load(std::memory_order_relaxed) != nullptr) j = (j + 1) & t->mask;
  t->slots[j].store(raw, std::memory_order_release);  // the entry is complete before it is seen
  ++s.count;
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
