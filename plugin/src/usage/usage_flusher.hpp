// Moves usage counted in memory (KeyUsage in each cache entry) to the database: called about
// once a second by the plugin's background thread, before every usage read (so reads are
// exact), and a last time in Plugin::on_stop (a graceful stop loses nothing).
//
// One transaction per flush. A failed write leaves every counter pending and is retried by the
// next flush; requests never wait on it or see it. Flushes are serialised by a mutex.
#pragma once

#include <mutex>

#include "auth/key_cache.hpp"
#include "mdp/host/services.hpp"
#include "usage/usage_store.hpp"

namespace mdp::api_access {

class UsageFlusher {
 public:
  UsageFlusher(KeyCache& cache, UsageStore& store, host::Log& log)
      : cache_(cache), store_(store), log_(log) {}

  // Writes every pending delta. False (and logged) if the write failed; the deltas stay pending.
  bool flush() noexcept;

 private:
  KeyCache& cache_;
  UsageStore& store_;
  host::Log& log_;
  std::mutex mutex_;
  bool failing_ = false;  // log a failure once, not every second
};

}  // namespace mdp::api_access
