// The request hook's cache of keys it has seen, keyed by SHA-256 digest.
//
// Sharded: 16 shards, each an unordered_map with its own std::shared_mutex, the shard and the
// bucket both taken from the digest's first 8 bytes (SHA-256 output is uniform), so readers on
// different threads never share a lock word in the common case and there is no global lock on
// the hot path. Entries are never freed while the cache lives: a pointer to one is the opaque
// token the host hands back in on_api_response, and the usage flusher walks them all. Only keys
// that exist in the database are inserted, so the cache is bounded by the key table.
//
// The mutable state of an entry (revoked, expires_at) is atomic and written only by KeyLoader
// under its mutex (see key_loader.hpp for why that ordering matters).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <deque>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "auth/entitlements.hpp"
#include "keys/key_format.hpp"
#include "keys/key_record.hpp"
#include "usage/key_usage.hpp"

namespace mdp::api_access {

inline constexpr Micros kNever = std::numeric_limits<Micros>::max();

struct CacheEntry {
  Digest digest{};
  KeyId key_id = 0;
  host::ClinicId clinic_id = 0;
  std::vector<std::string> scopes;  // immutable after insertion
  std::string preview;              // for log lines
  Entitlements::State* plan = nullptr;
  std::atomic<bool> revoked{false};
  std::atomic<Micros> expires_at{kNever};
  KeyUsage usage;

  bool has_scope(std::string_view scope) const noexcept {
    for (const auto& s : scopes)
      if (s == scope) return true;
    return false;
  }
};

struct DigestHash {
  std::size_t operator()(const Digest& d) const noexcept {
    std::uint64_t h;
    std::memcpy(&h, d.data(), sizeof h);
    return static_cast<std::size_t>(h);
  }
};

class KeyCache {
 public:
  static constexpr std::size_t kShards = 16;

  // Hot path.
  CacheEntry* find(const Digest& d) const noexcept;
  // Inserts `e` unless its digest is already present; returns the entry in the cache.
  CacheEntry* insert(std::unique_ptr<CacheEntry> e);
  CacheEntry* by_id(KeyId id) const;
  // Every entry, for the flusher.
  std::vector<CacheEntry*> entries() const;
  std::size_t size() const;

 private:
  struct alignas(64) Shard {
    mutable std::shared_mutex mutex;
    std::unordered_map<Digest, CacheEntry*, DigestHash> map;
  };
  static std::size_t shard_of(const Digest& d) noexcept {
    return (DigestHash{}(d) >> 60) % kShards;  // high bits: the map buckets use the low ones
  }

  std::array<Shard, kShards> shards_;
  mutable std::mutex registry_mutex_;  // owns entries; not on the hot path
  std::deque<std::unique_ptr<CacheEntry>> owned_;
  std::unordered_map<KeyId, CacheEntry*> by_id_;
};

}  // namespace mdp::api_access
