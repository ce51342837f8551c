#include "metrics/plugin_metrics.hpp"

namespace mdp::api_access {

namespace {

// Bucket bounds, in seconds (arrays, not vectors: loading the plugin runs no constructor).
// Database lookups and batch writes: 100 µs to 10 s.
constexpr double kDbBounds[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                        0.025,  0.05,    0.1,    0.25,  0.5,    1,     2.5,  10};
// Change lag: a NOTIFY arrives in milliseconds, the fallback poll within change_poll_ms (1 s by
// default), a reconnection within seconds.
constexpr double kLagBounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                         0.25,  0.5,    1,     2.5,  5,     10,   30};

// Every refusal the hook answers today; resolved at load so each shows (at 0) from the start.
constexpr std::string_view kKnownCodes[] = {
    "missing_api_key", "invalid_api_key", "api_key_in_query_not_allowed", "revoked_api_key",
    "expired_api_key", "api_access_not_enabled", "insufficient_scope", "too_many_failed_attempts",
    "service_unavailable", "ip_not_allowed", "rate_limited"};

// Families with several series the constructor resolves one by one (registering the same
// family again returns it).
host::CounterFamily& cache_lookups(host::Metrics& m) {
  return m.counter("mdp_api_access_cache_lookups_total",
                   "Request hook cache lookups: cache=keys (known keys) or misses (digests the "
                   "database did not hold, asked on a keys miss), result=hit|miss",
                   {"cache", "result"});
}
host::CounterFamily& throttled(host::Metrics& m) {
  return m.counter("mdp_api_access_throttled_total",
                   "Throttling refusals: reason=failed_attempts (an address that presented too "
                   "many invalid keys) or rate_limit (a key over its rate limit)",
                   {"reason"});
}

template <std::size_t N>
std::vector<double> bounds(const double (&b)[N]) {
  return std::vector<double>(b, b + N);
}

}  // namespace

PluginMetrics::PluginMetrics(host::Metrics& m)
    : key_cache_hit(cache_lookups(m).with({"keys", "hit"})),
      key_cache_miss(cache_lookups(m).with({"keys", "miss"})),
      miss_cache_hit(cache_lookups(m).with({"misses", "hit"})),
      miss_cache_miss(cache_lookups(m).with({"misses", "miss"})),
      flush_seconds(m.histogram("mdp_api_access_usage_flush_seconds",
                                "Duration of each usage batch write attempt", {}, bounds(kDbBounds))
                        .with({})),
      flush_failures(m.counter("mdp_api_access_usage_flush_failures_total",
                               "Usage batch writes that failed (kept and retried)", {})
                         .with({})),
      pending_requests(m.gauge("mdp_api_access_usage_pending_requests",
                               "API requests counted in memory and not yet written (0 after a "
                               "flush that wrote everything)",
                               {})
                           .with({})),
      pending_key_days(m.gauge("mdp_api_access_usage_pending_key_days",
                               "Key-day usage rows waiting to be written", {})
                           .with({})),
      change_lag_seconds(m.histogram("mdp_api_access_change_lag_seconds",
                                     "Per key change read from the change feed: the database "
                                     "clock at the read minus its clock at the change",
                                     {}, bounds(kLagBounds))
                             .with({})),
      feed_stale(m.gauge("mdp_api_access_change_feed_stale",
                         "1 while this process is out of touch with the change feed for longer "
                         "than the offline grace (cached keys answer 503)",
                         {})
                     .with({})),
      decisions_(m.counter("mdp_api_access_decisions_total",
                           "Request hook decisions: code=allowed or the refusal's error code",
                           {"code"})),
      allowed_(decisions_.with({"allowed"})),
      other_(decisions_.with({"other"})),
      throttled_failed_(throttled(m).with({"failed_attempts"})),
      throttled_rate_(throttled(m).with({"rate_limit"})) {
  auto& lookups = m.histogram("mdp_api_access_key_lookup_seconds",
                              "Database lookup of a key the cache did not hold, by outcome",
                              {"outcome"}, bounds(kDbBounds));
  lookup_seconds_ = {&lookups.with({"found"}), &lookups.with({"unknown"}),
                     &lookups.with({"unavailable"})};
  for (std::string_view code : kKnownCodes) decision_counter(code);
}

std::string_view PluginMetrics::code_of(std::string_view body) noexcept {
  constexpr std::string_view kField = "\"code\":\"";
  const auto at = body.find(kField);
  if (at == std::string_view::npos) return {};
  body.remove_prefix(at + kField.size());
  const auto end = body.find('"');
  if (end == std::string_view::npos) return {};
  const std::string_view code = body.substr(0, end);
  for (char c : code)  // codes are snake_case words; anything else is not a code
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return {};
  return code.size() <= 64 ? code : std::string_view{};
}

host::Counter& PluginMetrics::decision_counter(std::string_view code) noexcept {
  if (code.empty()) return other_;
  std::size_t n = used_.load(std::memory_order_acquire);
  for (std::size_t i = 0; i < n; ++i)
    if (slots_[i].code == code) return *slots_[i].counter;
  try {
    std::lock_guard guard(grow_);
    n = used_.load(std::memory_order_relaxed);
    for (std::size_t i = 0; i < n; ++i)
      if (slots_[i].code == code) return *slots_[i].counter;
    if (n == kSlots) return other_;
    slots_[n].code = std::string(code);
    slots_[n].counter = &decisions_.with({slots_[n].code});
    used_.store(n + 1, std::memory_order_release);  // publishes the slot to lock-free readers
    return *slots_[n].counter;
  } catch (...) {
    return other_;
  }
}

void PluginMetrics::decided(const host::ApiDecision& d) noexcept {
  if (d.allowed) return allowed_.add(1);
  const std::string_view code = code_of(d.body);
  decision_counter(code).add(1);
  if (code == "too_many_failed_attempts") throttled_failed_.add(1);
  else if (code == "rate_limited") throttled_rate_.add(1);
}

void PluginMetrics::key_lookup(KeyLoader::Outcome outcome,
                               std::chrono::steady_clock::duration took) noexcept {
  std::size_t i = 0;
  switch (outcome) {
    case KeyLoader::Outcome::found: i = 0; break;
    case KeyLoader::Outcome::unknown: i = 1; break;
    case KeyLoader::Outcome::unavailable: i = 2; break;
  }
  lookup_seconds_[i]->observe(std::chrono::duration<double>(took).count());
}

}  // namespace mdp::api_access
