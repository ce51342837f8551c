// Keeps the request hook's cached keys in step with the database, in every host process.
//
// Source of truth: api_access_key_changes, appended by the database's own triggers (sql/*/0002)
// whenever a key's revoked_at or expires_at changes or a key row is deleted, whoever made the
// change. One thread here reads it:
//   - PostgreSQL: it holds one pooled session that LISTENs on api_access_key_changes and waits
//     on that connection's socket; every NOTIFY (sent on commit) makes it read the feed at once,
//     so a revocation on another host process is applied here within milliseconds;
//   - both dialects: it also reads the feed at least every poll interval, so a lost
//     notification is made good within that interval;
//   - after every (re)connection it first re-reads the state of every cached key and then
//     continues from the feed's end as it was before that re-read, so nothing that happened
//     while it was away is missed, even if old feed rows were trimmed meanwhile.
// Feed ids become visible in id order (the trigger makes writers take turns), so "every id
// above my position" is a complete read.
//
// Lag (metrics): every feed row read is timed from the change to its arrival here, both ends
// on the database's clock (the trigger's changed_at, and the clock when the read ran), so host
// processes with skewed clocks still measure the same thing. On PostgreSQL changed_at is taken
// inside the writing transaction, just before it commits.
//
// Freshness: every successful read marks "in sync now". Once the last one is older than the
// offline grace, stale() is true and the request hook stops trusting its cache (503 for keys
// whose revocation it might have missed); it turns false again at the next successful read.
// Connection failures are retried with backoff (100 ms doubling to the poll interval).
//
// Threads: start()/stop() from the plugin's lifecycle; stale() from any thread (one relaxed
// atomic load); sync_now() from any thread (tests, and the background tick as a safety net).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <thread>

#include "auth/key_cache.hpp"
#include "auth/key_loader.hpp"
#include "mdp/host/services.hpp"
#include "metrics/plugin_metrics.hpp"

namespace mdp::api_access {

class ChangeFeed {
 public:
  struct Options {
    std::chrono::milliseconds poll_interval{1000};
    std::chrono::milliseconds offline_grace{std::chrono::seconds(30)};
  };

  // `metrics` (optional): the lag of every change read, and whether the feed is stale.
  ChangeFeed(host::Database& db, KeyCache& cache, KeyLoader& loader, host::Log& log,
             Options options, PluginMetrics* metrics = nullptr);
  ~ChangeFeed();
  ChangeFeed(const ChangeFeed&) = delete;
  ChangeFeed& operator=(const ChangeFeed&) = delete;

  void start();
  void stop() noexcept;  // joins the thread and gives its session back

  // Hot path: has this process been out of touch with the feed for longer than the grace?
  bool stale() const noexcept { return stale_.load(std::memory_order_relaxed); }

  // Reads the feed now on a short-lived session and applies it. True if it is in sync.
  bool sync_now() noexcept;

  // For tests: how many times the listener (re)connected, and how many changes it applied.
  std::uint64_t connections() const noexcept { return connections_.load(); }
  std::uint64_t applied() const noexcept { return applied_.load(); }

 private:
  using Steady = std::chrono::steady_clock;

  void run() noexcept;
  bool connect();                       // listener thread: lease, LISTEN, resync
  void disconnect() noexcept;           // listener thread
  bool wait_for_news(std::chrono::milliseconds timeout);  // false: the connection broke
  void resync(soci::session& sql);      // every cached key's state, then position = feed end
  void catch_up(soci::session& sql);    // every change after the position
  void mark_synced() noexcept;
  void update_staleness() noexcept;
  void sleep_interruptibly(std::chrono::milliseconds d) noexcept;

  host::Database& db_;
  KeyCache& cache_;
  KeyLoader& loader_;
  host::Log& log_;
  const Options options_;
  PluginMetrics* metrics_;

  std::mutex read_mutex_;         // one reader of the feed at a time; guards position_
  std::int64_t position_ = 0;     // highest feed id applied
  bool have_position_ = false;    // false until a resync set it

  std::optional<host::SessionLease> listen_lease_;  // listener thread only
  int wake_fd_ = -1;              // eventfd: stop() wakes the listener's poll()
  std::thread thread_;
  std::atomic<bool> stopping_{false};

  std::atomic<Steady::rep> synced_at_{0};  // Steady ticks of the last successful read
  std::atomic<bool> stale_{false};
  std::atomic<std::uint64_t> connections_{0}, applied_{0};
  bool reported_down_ = false;    // listener thread: log an outage once
};

}  // namespace mdp::api_access
