// Per-key usage counters in memory: requests, client errors (4xx) and server errors (5xx) per
// quarter of an hour (UTC), plus the last-used time. Written on every API response by the
// request hook (lock-free in the common case), read and persisted by the usage flusher.
//
// Why quarters of an hour: usage is stored per calendar day of the key's clinic, in its own time
// zone, and every zone's offset is a whole number of quarter hours (UTC+5:45 included), so a
// quarter lies entirely within one local day. The hook counts without knowing the zone; the
// flusher, off the request path, turns each quarter into its clinic's day (usage_flusher.cpp).
//
// Exactness: each quarter has its own counter block, found through an atomic pointer to the
// current one. When the host clock's quarter changes (or a test clock jumps, even backwards),
// the first response of the new quarter takes the entry's mutex and switches the pointer; an
// increment racing with the switch lands in the block of the quarter it read, which still
// exists. The flusher writes `counted - flushed` per block, so a failed write simply stays
// pending and a late increment is picked up by the next flush. Blocks of past quarters are freed
// once fully flushed and retired for a while (no increment can still be in flight by then).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/time_format.hpp"

namespace mdp::api_access {

using Period = std::int64_t;  // quarters of an hour since 1970-01-01T00:00Z
inline constexpr Micros kUsagePeriod = 15 * 60 * kMicrosPerSecond;
inline Period period_of(Micros t) noexcept { return t / kUsagePeriod - (t % kUsagePeriod < 0 ? 1 : 0); }
inline Micros period_start(Period p) noexcept { return p * kUsagePeriod; }

struct PeriodCounters {
  explicit PeriodCounters(Period p) : period(p) {}
  const Period period;
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> client_errors{0};
  std::atomic<std::uint64_t> server_errors{0};
  std::atomic<std::uint64_t> rate_limited{0};  // refused by the rate limit: in none of the above
  // Owned by the flusher (serialised by its mutex).
  std::uint64_t flushed_requests = 0, flushed_client_errors = 0, flushed_server_errors = 0,
                flushed_rate_limited = 0;
  std::chrono::steady_clock::time_point retired_since{};
};

// Where a key's request came from: the client address and the User-Agent (printable ASCII,
// at most kMaxAgent characters; anything else becomes '?').
struct ClientSeen {
  static constexpr std::size_t kMaxAgent = 256;
  std::string address, user_agent;
};

// Not-yet-persisted counts of one key: collected per quarter (`period`), written per day of the
// key's clinic (`day`, set by the flusher).
struct UsageDelta {
  std::int64_t key_id = 0;
  DayNumber day = 0;
  Period period = 0;
  std::uint64_t requests = 0, client_errors = 0, server_errors = 0, rate_limited = 0;
  PeriodCounters* source = nullptr;  // to mark as flushed after a successful write
};

class KeyUsage {
 public:
  // Hot path: one response of `status` at `now`. Never throws, never blocks except when the
  // quarter changes.
  // `rate_limited`: the key's rate limit refused it; counted only as such.
  void record(Micros now, int status, bool rate_limited = false) noexcept;

  // Flusher side (callers serialise): appends this key's pending deltas, one per quarter.
  void collect(std::int64_t key_id, std::vector<UsageDelta>& out);
  // After the deltas were written.
  static void mark_flushed(const UsageDelta& d) noexcept;
  // Frees blocks of past quarters that are fully flushed and were retired more than `after` ago.
  void prune(std::chrono::steady_clock::time_point now, std::chrono::seconds after);

  // Hot path, every request that presented this key: who sent it. Costs two string hashes
  // when the client is the same as last time; a different client takes a mutex (never waits:
  // if another request holds it, that request's client is as recent as this one).
  void note_client(std::string_view address, std::string_view user_agent) noexcept;
  // Flusher side: the last client, if it changed since the previous call.
  std::optional<ClientSeen> take_client();

  // The newest response time seen (0: none since the plugin started), and the flusher's record
  // of what it has persisted.
  Micros last_used() const noexcept { return last_used_.load(std::memory_order_relaxed); }
  Micros flushed_last_used = 0;  // flusher-owned

 private:
  PeriodCounters* switch_period(Period p) noexcept;

  std::atomic<PeriodCounters*> current_{nullptr};
  std::atomic<Micros> last_used_{0};
  std::mutex mutex_;  // guards periods_
  std::vector<std::unique_ptr<PeriodCounters>> periods_;
  std::atomic<std::uint64_t> client_hash_{0};  // of the last client noted; 0: none
  std::mutex client_mutex_;                    // guards the two below
  ClientSeen client_;
  bool client_changed_ = false;
};

}  // namespace mdp::api_access
