// One key's request counter for its rate limit: fixed windows of `per_seconds` seconds aligned
// to the Unix epoch on the host clock (a limit of 600 per 60 s counts 10:00:00-10:00:59, then
// starts again at 10:01:00), the way GitHub's hourly API limit resets. Fixed windows make the
// refusal exact and easy to predict ("the 601st request this minute is refused, for the
// rest of the minute"), at the price every fixed window pays: a client can spend one window's
// quota at its end and the next one's at the start of the next.
//
// Hot path: admit() is one atomic load of the other processes' count and a compare-exchange
// loop on one 64-bit word (window start in seconds | requests admitted here in that window): no
// lock, no allocation, no I/O. A refusal writes nothing, so a flood of refused requests does not
// bounce the cache line between cores more than reading does.
//
// Several host processes: each counts what it admitted; the rate exchange
// (auth/rate_exchange.hpp) publishes every process's count through the database about once a
// second and tells each process what the others admitted in the current window
// (set_others). A process admits while its own count + the others' known count is under the
// limit, so the limit holds across processes up to what the others admitted since the last
// exchange (README: "Rate limits", BENCHMARKS.md for the measured overshoot).
#pragma once

#include <atomic>
#include <cstdint>

#include "util/time_format.hpp"

namespace mdp::api_access {

struct RateVerdict {
  bool allowed = false;
  std::uint32_t limit = 0;          // requests per window
  std::uint32_t per_seconds = 0;    // the window
  std::uint32_t remaining = 0;      // requests left in this window after this one
  std::uint32_t reset_seconds = 0;  // seconds until the window ends (at least 1)
};

class RateWindow {
 public:
  // Counts one request at `now` against `requests` per `per_seconds` (both > 0), unless the
  // window is used up. Any thread, concurrently.
  RateVerdict admit(std::uint32_t requests, std::uint32_t per_seconds, Micros now) noexcept;
  // The same answer without counting (a request refused before the limit was consulted).
  RateVerdict peek(std::uint32_t requests, std::uint32_t per_seconds, Micros now) const noexcept;

  // The rate exchange's side (one thread).
  // What this process admitted in the window that starts at `window_start` (seconds): 0 when
  // the counter is on another window.
  std::uint64_t local_count(std::int64_t window_start) const noexcept;
  // The window start, its length and the count this process admitted in its current window.
  void local(std::int64_t& window_start, std::uint32_t& per_seconds, std::uint64_t& count) const noexcept;
  // What the other processes admitted in the window that starts at `window_start`.
  void set_others(std::int64_t window_start, std::uint64_t count) noexcept;

  // Exchange bookkeeping: the last (window, count) this process published. Exchange thread only.
  std::int64_t published_window = -1;
  std::uint64_t published_count = 0;

 private:
  // Window start (seconds since the epoch, 36 bits: until the year 4147) << 28 | count (28 bits).
  static constexpr unsigned kCountBits = 28;
  static constexpr std::uint64_t kCountMask = (std::uint64_t{1} << kCountBits) - 1;
  static std::uint64_t pack(std::int64_t start, std::uint64_t count) noexcept {
    return static_cast<std::uint64_t>(start) << kCountBits | (count > kCountMask ? kCountMask : count);
  }
  static std::int64_t start_of(std::uint64_t w) noexcept { return static_cast<std::int64_t>(w >> kCountBits); }
  static std::uint64_t count_of(std::uint64_t w) noexcept { return w & kCountMask; }
  static RateVerdict verdict(bool allowed, std::uint32_t requests, std::uint32_t per_seconds,
                             std::uint64_t used, std::int64_t start, Micros now) noexcept;

  std::atomic<std::uint64_t> mine_{0};
  std::atomic<std::uint64_t> others_{0};
  std::atomic<std::uint32_t> per_seconds_{0};  // of the window in mine_, written when it starts
};

}  // namespace mdp::api_access
