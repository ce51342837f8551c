// Which scopes a key's requests used, for least privilege: per scope of the host's list
// (index = position in HostServices::api_scopes(), fixed at load), the requests the hook
// allowed with it and the newest one's time. Counted in memory by the request hook (one relaxed
// add and, once per microsecond of host clock at most, one store), written with the usage
// flush in the same batch (usage/usage_flusher.hpp), so never a database write per request.
//
// Memory: a key's counters are allocated on its first allowed request that needs a scope (a
// key that is only ever refused costs one null pointer), and live as long as the cache entry.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "util/time_format.hpp"

namespace mdp::api_access {

// One key's use of one scope, as flushed and as stored (api_access_scope_usage, migration 0007).
struct ScopeUse {
  std::int64_t key_id = 0;
  std::string scope;
  std::uint64_t requests = 0;
  Micros last_used_at = 0;  // whole seconds
};

class ScopeTally {
 public:
  ScopeTally() = default;
  ScopeTally(const ScopeTally&) = delete;
  ScopeTally& operator=(const ScopeTally&) = delete;
  ~ScopeTally() { delete[] block_.load(std::memory_order_acquire); }

  // Hot path: one allowed request that needed scope `index` of `count` (the host's scopes).
  // `count` is the same on every call (the host's scope list, fixed at load); an index past it
  // (a scope the host did not declare) is not counted. Never throws.
  void record(std::size_t index, std::size_t count, Micros now) noexcept {
    if (index >= count) return;
    Counter* b = block_.load(std::memory_order_acquire);
    if (b == nullptr && (b = allocate(count)) == nullptr) return;
    b[index].requests.fetch_add(1, std::memory_order_relaxed);
    // Racing requests may store out of order within a microsecond or so; the newest second
    // is what is kept, and the flusher only ever raises the stored time.
    if (b[index].last.load(std::memory_order_relaxed) < now) b[index].last.store(now, std::memory_order_relaxed);
  }

  // Flusher side (callers serialise): appends what is new since the last call, one per scope,
  // and takes it as flushed (the batch owns it now). `names[i]` names scope i; names.size() is
  // the `count` that record() was given.
  void collect(std::int64_t key_id, const std::vector<std::string>& names, std::vector<ScopeUse>& out);

 private:
  struct Counter {
    std::atomic<std::uint64_t> requests{0};
    std::atomic<Micros> last{0};
    std::uint64_t flushed = 0;  // flusher-owned
    Micros flushed_last = 0;
  };
  Counter* allocate(std::size_t count) noexcept;

  std::atomic<Counter*> block_{nullptr};  // names.size() counters, once allocated
};

}  // namespace mdp::api_access
