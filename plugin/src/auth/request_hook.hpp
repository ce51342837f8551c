// The API hook: decides every request to the host's public API and counts its
// response. Order of checks, each refusal a JSON error:
//   1. a key-like query parameter                  401 api_key_in_query_not_allowed
//   2. keys from Authorization: Bearer / X-API-Key: none 401 missing_api_key (+ WWW-Authenticate),
//      two different ones 401 invalid_api_key
//   3. grammar (length, prefix, alphabet)           401 invalid_api_key
//   4. SHA-256 (pooled hasher), lock-free cache find; on a miss: an address that presented too
//      many invalid keys lately waits (429 too_many_failed_attempts + Retry-After, before any
//      lookup; auth/failure_throttle.hpp), CRC32 (bad: 401 invalid_api_key, no query), a digest
//      the database already did not hold (auth/miss_cache.hpp: 401, no query), then the
//      database (unknown: the same 401 invalid_api_key, byte for byte). Every invalid key
//      counts against its client address.
//   5. revoked 401 revoked_api_key, expired (expires_at <= host clock) 401 expired_api_key,
//      plan without API access 403 api_access_not_enabled;
//   6. from here every answer carries the key's RateLimit-Policy and RateLimit fields
//      (ApiRequest::add_response_header): a client address outside the key's allowed_ips 403
//      ip_not_allowed (not counted against the limit), over the key's rate limit (its own, or
//      the plan's default: plugin_config.hpp) 429 rate_limited + Retry-After (auth/rate_window.hpp;
//      counted apart in usage), missing scope 403 insufficient_scope.
// Could not decide: 503 service_unavailable with Retry-After, when the database was needed and
// did not answer (a cache miss, a plan the host could not look up), or when this process has
// lost touch with the change feed for longer than the offline grace (auth/change_feed.hpp), so
// its cached "active" may be out of date. A revocation or expiry already known still wins.
// From step 5 on the decision carries the cache entry as token, so refusals count against the
// key. Threads: any number, concurrently; no global lock; no I/O unless the cache misses.
#pragma once

#include <memory>
#include <string>

#include "mdp/host/api_hook.hpp"

namespace mdp::api_access {

struct PluginContext;

class RequestHook final : public host::ApiHook {
 public:
  explicit RequestHook(std::shared_ptr<PluginContext> ctx);
  void on_api_request(const host::ApiRequest& request, host::ApiDecision& decision) noexcept override;
  void on_api_response(std::uint64_t token, int status) noexcept override;
  // Disclosure accounting: adds the records to the key's tally in memory (no I/O).
  void on_api_records(std::uint64_t token, const host::RecordTouch* records,
                      std::size_t count) noexcept override;

 private:
  // The decision itself; on_api_request adds the metrics (metrics/plugin_metrics.hpp).
  void decide(const host::ApiRequest& request, host::ApiDecision& decision) noexcept;
  void refuse(host::ApiDecision& d, int status, const std::string& body) const noexcept;
  // 503 service_unavailable with Retry-After: the hook could not decide (see api_hook.hpp).
  void unavailable(host::ApiDecision& d) const noexcept;
  // 401 invalid_api_key, and one more failure for the client's address.
  void invalid(host::ApiDecision& d, const host::ApiRequest& req) const noexcept;

  std::shared_ptr<PluginContext> ctx_;
  // Bodies of the fixed refusals, serialised once.
  std::string missing_, invalid_, in_query_, revoked_, expired_, not_enabled_, throttled_,
      unavailable_;
};

// Exposed for tests: does this raw query string carry something that looks like a key?
bool query_holds_key(std::string_view raw_query) noexcept;

}  // namespace mdp::api_access
