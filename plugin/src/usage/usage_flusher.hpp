// Moves usage counted in memory (KeyUsage in each cache entry) to the database: called about
// once a second by the plugin's background thread, before every usage read (so reads are
// exact), and a last time in Plugin::on_stop (a graceful stop loses nothing the database can
// take).
//
// Exactly once, through database faults: a flush claims the pending counts into a batch with a
// random id and writes it in one transaction that also records the id (UsageStore::write_batch).
// If the write fails, for whatever reason (including a COMMIT whose answer was lost with the
// connection), the batch is kept as it is and sent again, under the same id, before anything
// newer: the store adds it only if the id is not recorded yet. Meanwhile new requests keep
// counting in the per-key quarter-hour counters, so memory stays bounded by key-quarters, not
// requests (a claimed batch is summed per key and day).
//
// Days are the clinic's (ClinicZones): each quarter's counts go to the calendar day, in the
// key's clinic's time zone, that the quarter lies in. While the host cannot say a clinic's zone
// (and none is known from before), that clinic's counts stay in memory, unclaimed, like counts
// waiting for the database.
// Flushes are serialised by a mutex; requests never wait on them or see them fail.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "auth/key_cache.hpp"
#include "mdp/host/services.hpp"
#include "metrics/plugin_metrics.hpp"
#include "usage/usage_store.hpp"
#include "util/clinic_zones.hpp"

namespace mdp::api_access {

class UsageFlusher {
 public:
  // `metrics` (optional): write durations, failures, and what waits after each attempt.
  // `scope_names` (optional): the host's scopes, to write each key's per-scope tally too.
  UsageFlusher(KeyCache& cache, UsageStore& store, ClinicZones& zones, host::Log& log,
               PluginMetrics* metrics = nullptr, const std::vector<std::string>* scope_names = nullptr)
      : cache_(cache), store_(store), zones_(zones), log_(log), metrics_(metrics), scope_names_(scope_names) {}

  // Writes the outstanding batch, if any, then every newer count. False (logged once per
  // outage) if a write failed; nothing is lost then, it is retried by the next flush.
  bool flush() noexcept;

  // What is counted but not yet known to be written (for the stop message and tests).
  struct Pending {
    std::uint64_t requests = 0;
    std::size_t key_days = 0;  // (key, day) rows claimed, plus (key, quarter) blocks not yet claimed
  };
  Pending pending() noexcept;

 private:
  struct Batch {
    std::string id;
    std::vector<UsageDelta> deltas;
    std::vector<LastUse> last_used;
    std::vector<ScopeUse> scopes;  // per key and scope, since the last batch
  };
  std::optional<Batch> claim();  // under mutex_: moves pending counts into a new batch
  bool send(const Batch& b);     // under mutex_: false on failure (logged)
  Pending pending_locked() noexcept;  // under mutex_
  void report(bool written) noexcept;  // under mutex_: the pending gauges

  KeyCache& cache_;
  UsageStore& store_;
  ClinicZones& zones_;
  host::Log& log_;
  PluginMetrics* metrics_;
  const std::vector<std::string>* scope_names_;
  std::mutex mutex_;
  std::optional<Batch> outstanding_;  // claimed, not known to be written
  bool failing_ = false;              // log a failure once, not every second
};

}  // namespace mdp::api_access
