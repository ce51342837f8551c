// Several host processes on one PostgreSQL enforce one rate limit per key: about every
// `rate_limit_sync_ms` (default 1 s) each process publishes, in one transaction, what it admitted
// per key in the key's current window (one row per key and process in api_access_rate_windows,
// written only for keys whose count moved since the last exchange: an idle process writes
// nothing), then reads what the other processes admitted in their current windows and hands it
// to each key's RateWindow (auth/rate_window.hpp). Requests never wait on this: they read two
// atomics.
//
// The bound this gives (README "Rate limits"; measured in BENCHMARKS.md): in one window, the
// processes together admit at most the limit plus what the OTHER processes admitted during the
// exchange lag, which is under two intervals (a count is published at most one interval after
// it happened and read at most one interval after that, plus the database round trip). A burst
// spread over P processes faster than that lag can reach P x the limit; traffic that reaches
// the processes at a steady rate overshoots by about rate x lag.
//
// SQLite serves one host process, whose own count is already exact: start() does nothing there.
// Failures (database down) are logged once per outage; each process then enforces the limit on
// its own counts plus the last counts it heard of, and publishes again when the database is back.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "auth/key_cache.hpp"
#include "mdp/host/services.hpp"

namespace mdp::api_access {

class RateExchange {
 public:
  RateExchange(host::Database& db, KeyCache& cache, const host::Clock& clock, host::Log& log,
               std::chrono::milliseconds interval);
  ~RateExchange();

  void start();          // PostgreSQL only; idempotent
  void stop() noexcept;  // joins the thread

  // One publish + read now (the thread's step; tests call it directly). False on a failure.
  bool exchange() noexcept;
  // A key this process has just loaded (a cache miss, which already cost a query): reads what
  // the other processes admitted for it, so a process that has never seen a key does not admit
  // a whole limit's worth before its next exchange. Does nothing unless started; a failure
  // leaves the count to the next exchange.
  void seed(CacheEntry& entry) noexcept;
  // Deletes rows of windows that ended more than an hour ago (housekeeping, any process).
  void trim() noexcept;

  const std::string& process_id() const noexcept { return process_id_; }

 private:
  void run() noexcept;
  // Both throw soci_error / DatabaseUnavailable; exchange() logs and retries next round.
  void publish();
  void read();

  host::Database& db_;
  KeyCache& cache_;
  const host::Clock& clock_;
  host::Log& log_;
  const std::chrono::milliseconds interval_;
  const std::string process_id_;

  std::mutex exchange_mutex_;  // one exchange at a time (thread, tests)
  bool failing_ = false;       // under exchange_mutex_: log a failure once, not every interval
  std::mutex mutex_;           // thread control
  std::condition_variable cv_;
  bool stopping_ = false;
  std::atomic<bool> running_{false};
  std::thread thread_;
};

}  // namespace mdp::api_access
