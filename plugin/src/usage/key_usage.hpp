// Per-key usage counters in memory: requests, client errors (4xx) and server errors (5xx) per
// UTC day, plus the last-used time. Written on every API response by the request hook
// (lock-free in the common case), read and persisted by the usage flusher.
//
// Exactness: each day has its own counter block, found through an atomic pointer to "today".
// When the host clock's day changes (midnight, or a test clock jumping days, even backwards),
// the first response of the new day takes the entry's mutex and switches the pointer; an
// increment racing with the switch lands in the block of the day it read, which still exists.
// The flusher writes `counted - flushed` per block, so a failed write simply stays pending and
// a late increment is picked up by the next flush. Blocks of past days are freed once fully
// flushed and retired for a while (no increment can still be in flight by then).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "util/time_format.hpp"

namespace mdp::api_access {

struct DayCounters {
  explicit DayCounters(DayNumber d) : day(d) {}
  const DayNumber day;
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> client_errors{0};
  std::atomic<std::uint64_t> server_errors{0};
  // Owned by the flusher (serialised by its mutex).
  std::uint64_t flushed_requests = 0, flushed_client_errors = 0, flushed_server_errors = 0;
  std::chrono::steady_clock::time_point retired_since{};
};

// One day's not-yet-persisted counts of one key.
struct UsageDelta {
  std::int64_t key_id = 0;
  DayNumber day = 0;
  std::uint64_t requests = 0, client_errors = 0, server_errors = 0;
  DayCounters* source = nullptr;  // to mark as flushed after a successful write
};

class KeyUsage {
 public:
  // Hot path: one response of `status` at `now`. Never throws, never blocks except on a day
  // change.
  void record(Micros now, int status) noexcept;

  // Flusher side (callers serialise): appends this key's pending deltas.
  void collect(std::int64_t key_id, std::vector<UsageDelta>& out);
  // After the deltas were written.
  static void mark_flushed(const UsageDelta& d) noexcept;
  // Frees blocks of past days that are fully flushed and were retired more than `after` ago.
  void prune(std::chrono::steady_clock::time_point now, std::chrono::seconds after);

  // The newest response time seen (0: none since the plugin started), and the flusher's record
  // of what it has persisted.
  Micros last_used() const noexcept { return last_used_.load(std::memory_order_relaxed); }
  Micros flushed_last_used = 0;  // flusher-owned

 private:
  DayCounters* switch_day(DayNumber day) noexcept;

  std::atomic<DayCounters*> today_{nullptr};
  std::atomic<Micros> last_used_{0};
  std::mutex mutex_;  // guards days_
  std::vector<std::unique_ptr<DayCounters>> days_;
};

}  // namespace mdp::api_access
