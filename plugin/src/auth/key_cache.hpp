// The request hook's cache of keys it has seen, keyed by SHA-256 digest.
//
// Sharded, and lock-free for readers: 16 shards picked by the digest's top bits, each an
// open-addressing table of atomic entry pointers probed from the digest's low bits (SHA-256
// output is uniform). A lookup is a few acquire loads and one 32-byte comparison: no lock, no
// shared counter written, so threads deciding requests for the same key do not bounce a cache
// line between cores (a std::shared_mutex's reader count would). Inserts (cache misses, rare)
// take the shard's mutex; a full table is replaced by one twice its size, published atomically,
// and the old one is kept (a reader may still be probing it), so memory stays under twice the
// live tables. Entries are never freed while the cache lives: a pointer to one is the opaque
// token the host hands back in on_api_response, and the usage flusher walks them all. Only keys
// that exist in the database are inserted, so the cache is bounded by the key table.
//
// The mutable state of an entry (revoked, expires_at, rules) is atomic and written only by
// KeyLoader under its mutex (see key_loader.hpp for why that ordering matters). Rules (scopes,
// allowed addresses, rate limit) change as a whole: a new KeyRules is published with one atomic
// store, and the ones it replaced are kept with the entry (a request may still be reading one);
// they are small and change only when an admin edits the key.
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
#include <string>
#include <unordered_map>
#include <vector>

#include "auth/entitlements.hpp"
#include "auth/rate_window.hpp"
#include "keys/key_format.hpp"
#include "keys/key_record.hpp"
#include "usage/key_usage.hpp"
#include "usage/scope_usage.hpp"

namespace mdp::api_access {

inline constexpr Micros kNever = std::numeric_limits<Micros>::max();

struct CacheEntry {
  Digest digest{};
  KeyId key_id = 0;
  host::ClinicId clinic_id = 0;
  std::string preview;              // for log lines
  Entitlements::State* plan = nullptr;
  std::atomic<bool> revoked{false};
  std::atomic<Micros> expires_at{kNever};
  KeyUsage usage;
  ScopeTally scopes_used;  // which scopes its allowed requests needed (least privilege)
  RateWindow rate;  // the key's rate-limit counter (auth/rate_window.hpp)

  // Hot path: the rules in force for this key now.
  const KeyRules& rules() const noexcept {
    const KeyRules* r = rules_.load(std::memory_order_acquire);
    return r != nullptr ? *r : no_rules();
  }
  bool has_scope(std::string_view scope) const noexcept { return rules().has_scope(scope); }

  // Publishes `r` if it differs from the rules in force. Writers: KeyLoader only (under its
  // mutex), and whoever builds the entry before inserting it.
  void set_rules(KeyRules r) {
    const KeyRules* now = rules_.load(std::memory_order_relaxed);
    if (now != nullptr && *now == r) return;
    rules_history_.push_back(std::make_unique<const KeyRules>(std::move(r)));
    rules_.store(rules_history_.back().get(), std::memory_order_release);
  }

 private:
  // Before set_rules (entries are inserted only after it): no scope, every request refused. A
  // function-local static, so loading the library runs no constructor for it.
  static const KeyRules& no_rules() noexcept {
    static const KeyRules none{};
    return none;
  }
  std::atomic<const KeyRules*> rules_{nullptr};
  std::vector<std::unique_ptr<const KeyRules>> rules_history_;  // every KeyRules ever published
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
  struct Table {
    explicit Table(std::size_t capacity)
        : mask(capacity - 1), slots(new std::atomic<CacheEntry*>[capacity]) {
      for (std::size_t i = 0; i < capacity; ++i) slots[i].store(nullptr, std::memory_order_relaxed);
    }
    const std::size_t mask;  // capacity - 1; capacity is a power of two
    std::unique_ptr<std::atomic<CacheEntry*>[]> slots;
  };
  struct alignas(64) Shard {
    std::atomic<Table*> table{nullptr};
    std::mutex write_mutex;  // inserts and growth
    std::size_t count = 0;   // under write_mutex
    std::vector<std::unique_ptr<Table>> generations;  // every table ever published
  };
  static constexpr std::size_t kInitialCapacity = 64;
  static std::size_t shard_of(const Digest& d) noexcept {
    return (DigestHash{}(d) >> 60) % kShards;  // top bits: the table index uses the low ones
  }
  static CacheEntry* probe(const Table& t, const Digest& d) noexcept;

 public:
  KeyCache();

 private:
  std::array<Shard, kShards> shards_;
  mutable std::mutex registry_mutex_;  // owns entries; not on the hot path
  std::deque<std::unique_ptr<CacheEntry>> owned_;
  std::unordered_map<KeyId, CacheEntry*> by_id_;
};

}  // namespace mdp::api_access
