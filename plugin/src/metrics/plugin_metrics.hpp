// What the plugin reports to the host's metrics service (services.hpp, "Metrics"): every family
// declared here once, every series the hot path touches resolved at load, so a request only
// adds to counters it already holds (lock-free; no lookup by name, no allocation).
//
//   mdp_api_access_decisions_total{code}           counter   every on_api_request: "allowed" or
//                                                            the refusal's error code
//   mdp_api_access_throttled_total{reason}         counter   refusals that are throttling:
//                                                            "failed_attempts" (429
//                                                            too_many_failed_attempts), "rate_limit"
//                                                            (429 rate_limited)
//   mdp_api_access_cache_lookups_total{cache,result} counter cache="keys" (known keys, the
//                                                            positive cache) or "misses" (digests
//                                                            the database did not hold, asked on
//                                                            a key-cache miss); result="hit"|"miss"
//   mdp_api_access_key_lookup_seconds{outcome}     histogram the database lookup of a key-cache
//                                                            miss; outcome="found"|"unknown"|
//                                                            "unavailable"
//   mdp_api_access_usage_flush_seconds             histogram each usage batch write attempt
//   mdp_api_access_usage_flush_failures_total      counter   batch writes that failed (retried)
//   mdp_api_access_usage_pending_requests          gauge     requests counted and not yet written
//                                                            (0 after a flush that wrote all;
//                                                            while flushes fail, all that waits)
//   mdp_api_access_usage_pending_key_days          gauge     the same, in key-day rows
//   mdp_api_access_change_lag_seconds              histogram per change-feed row read: the
//                                                            database's clock at the read minus
//                                                            its clock when the change was made
//   mdp_api_access_change_feed_stale               gauge     1 while the hook distrusts its cache
//                                                            (out of touch for the offline grace)
//
// No label holds a key, a preview, a clinic or an address: codes, outcomes and fixed words only.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>

#include "auth/key_loader.hpp"
#include "mdp/host/api_hook.hpp"
#include "mdp/host/services.hpp"

namespace mdp::api_access {

class PluginMetrics {
 public:
  explicit PluginMetrics(host::Metrics& metrics);
  PluginMetrics(const PluginMetrics&) = delete;
  PluginMetrics& operator=(const PluginMetrics&) = delete;

  // The hook's answer, after on_api_request filled it: "allowed", or the code in its body.
  void decided(const host::ApiDecision& d) noexcept;

  host::Counter& key_cache_hit;
  host::Counter& key_cache_miss;
  host::Counter& miss_cache_hit;
  host::Counter& miss_cache_miss;

  // The database lookup of a key-cache miss, and how long it took.
  void key_lookup(KeyLoader::Outcome outcome, std::chrono::steady_clock::duration took) noexcept;

  host::Histogram& flush_seconds;
  host::Counter& flush_failures;
  host::Gauge& pending_requests;
  host::Gauge& pending_key_days;

  host::Histogram& change_lag_seconds;
  host::Gauge& feed_stale;

  // The error code in a refusal body ({"error":{"code":"...",...}}); empty if there is none.
  static std::string_view code_of(std::string_view body) noexcept;

 private:
  // Series of decisions_total by code. The codes the hook answers today are resolved at load;
  // a code met for the first time (a refusal added later) is resolved once, under a lock, into
  // a free slot, and read without a lock from then on. Past kSlots codes: "other".
  struct Slot {
    std::string code;
    host::Counter* counter = nullptr;
  };
  static constexpr std::size_t kSlots = 48;
  host::Counter& decision_counter(std::string_view code) noexcept;

  host::CounterFamily& decisions_;
  host::Counter& allowed_;
  host::Counter& other_;
  host::Counter& throttled_failed_;
  host::Counter& throttled_rate_;
  std::array<host::Histogram*, 3> lookup_seconds_{};
  std::array<Slot, kSlots> slots_;
  std::atomic<std::size_t> used_{0};
  std::mutex grow_;
};

}  // namespace mdp::api_access
