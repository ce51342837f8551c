// Usage per key per UTC day in api_access_usage_daily, and the key's last_used_at.
//
// Writes come only from UsageFlusher, in batches (one transaction, UPSERTs that add). Reads
// serve GET keys/{id}/usage and the API Keys page (plugin/src/pages/).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "keys/key_record.hpp"
#include "mdp/host/services.hpp"
#include "usage/key_usage.hpp"
#include "usage/scope_usage.hpp"

namespace mdp::api_access {

// A key's last use as one process saw it: the newest second it answered (0: no response yet)
// and, when it changed, the client of its latest request.
struct LastUse {
  KeyId key_id = 0;
  Micros at = 0;
  std::optional<ClientSeen> client;
};

struct DayUsage {
  DayNumber day = 0;
  std::uint64_t requests = 0, client_errors = 0, server_errors = 0;
  std::uint64_t rate_limited = 0;  // refused by the key's rate limit, in none of the above
};

class UsageStore {
 public:
  explicit UsageStore(host::Database& db) : db_(db) {}

  // One transaction, exactly once per `batch_id`: adds every delta to its (key, day) row, raises
  // last_used_at where the given time is newer, and records the batch id. If the id is already
  // recorded (an earlier attempt committed but its answer was lost), writes nothing and returns
  // false. Throws on failure; the caller retries with the same id.
  // `scopes`: requests added to each (key, scope) row, its last use raised.
  bool write_batch(const std::string& batch_id, const std::vector<UsageDelta>& deltas,
                   const std::vector<LastUse>& last_used, const std::vector<ScopeUse>& scopes = {});
  // Forgets batch ids recorded before `before` (wall clock): retries happen within seconds.
  void trim_batches(Micros before);

  // Per-scope usage of each of `keys` (api_access_scope_usage); keys without any are absent.
  std::map<KeyId, std::vector<ScopeUse>> scopes_for_keys(const std::vector<KeyId>& keys) const;
  // When per-scope counting began (nullopt: not recorded yet). start_scope_counting records
  // `now` unless a time is recorded already (the first load of this version, any process).
  std::optional<Micros> scope_counting_since() const;
  void start_scope_counting(Micros now);

  // Every day from `from` to `to` inclusive, oldest first, zero days included.
  std::vector<DayUsage> daily(KeyId key, DayNumber from, DayNumber to) const;
  // The same for each of `keys` (keys without usage in the range are absent from the map).
  std::map<KeyId, std::vector<DayUsage>> daily_for_keys(const std::vector<KeyId>& keys, DayNumber from,
                                                        DayNumber to) const;

 private:
  host::Database& db_;
};

// Sum over days, and (client + server errors) / requests, 0 without requests.
struct UsageTotals {
  std::uint64_t requests = 0, client_errors = 0, server_errors = 0, rate_limited = 0;
  double error_rate() const noexcept {
    return requests == 0 ? 0.0
                         : static_cast<double>(client_errors + server_errors) /
                               static_cast<double>(requests);
  }
};
UsageTotals totals(const std::vector<DayUsage>& days) noexcept;

}  // namespace mdp::api_access
