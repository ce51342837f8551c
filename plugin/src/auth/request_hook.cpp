#include "auth/request_hook.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <chrono>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <botan/mem_ops.h>

#include "errors/error_catalogue.hpp"
#include "plugin_context.hpp"
#include "util/json_error.hpp"

namespace mdp::api_access {

namespace {

// Header lines read per name. More than this many lines of one header: refused as invalid
// (a client that sends five Authorization lines is not one we can trust to mean one key).
constexpr std::size_t kMaxHeaderLines = 4;
// Retry-After of a 503: the database pool retries a dead connection about every second.
constexpr int kRetryAfterSeconds = 2;
// Longest query string inspected; the host bounds the request line anyway.
constexpr std::size_t kMaxQueryScan = 16 * 1024;

// ASCII case folding: header names and auth schemes are ASCII, and std::tolower is a
// locale-aware call into libc on every character of the hot path.
constexpr char ascii_lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  return true;
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

int hexval(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decodes and lower-cases at most `max` characters of `s` into `out`.
std::size_t decode_lower(std::string_view s, char* out, std::size_t max) noexcept {
  std::size_t n = 0;
  for (std::size_t i = 0; i < s.size() && n < max; ++i) {
    char c = s[i];
    if (c == '%' && i + 2 < s.size() + 0 && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
      c = static_cast<char>(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
      i += 2;
    } else if (c == '+') {
      c = ' ';
    }
    out[n++] = ascii_lower(c);
  }
  return n;
}

constexpr std::array<std::string_view, 12> kKeyParams = {
    "api_key", "apikey", "api-key", "x-api-key", "x_api_key", "key",
    "token", "access_token", "auth_token", "bearer", "authorization", "api_token"};

// The token of a decision is its cache entry's address; entries are at least 8-byte aligned, so
// the low bit is free to say "refused by the rate limit" (usage counts those apart).
constexpr std::uint64_t kRateLimitedBit = 1;
static_assert(alignof(CacheEntry) >= 2);

// The IETF RateLimit fields (draft-ietf-httpapi-ratelimit-headers) on this answer:
//   RateLimit-Policy: "per-key";q=<requests>;w=<seconds>
//   RateLimit: "per-key";r=<remaining>;t=<seconds until the window ends>
// Formatted on the stack: no allocation on the plugin's side.
void rate_fields(const host::ApiRequest& req, const RateVerdict& v) noexcept {
  char buf[64];
  auto put = [&](char* p, std::uint32_t n) { return std::to_chars(p, buf + sizeof buf, n).ptr; };
  constexpr std::string_view kName = "\"per-key\";";
  char* p = std::copy(kName.begin(), kName.end(), buf);
  p = put(std::copy_n("q=", 2, p), v.limit);
  p = put(std::copy_n(";w=", 3, p), v.per_seconds);
  req.add_response_header("RateLimit-Policy", std::string_view(buf, static_cast<std::size_t>(p - buf)));
  p = std::copy(kName.begin(), kName.end(), buf);
  p = put(std::copy_n("r=", 2, p), v.remaining);
  p = put(std::copy_n(";t=", 3, p), v.reset_seconds);
  req.add_response_header("RateLimit", std::string_view(buf, static_cast<std::size_t>(p - buf)));
}

std::string rate_error(const RateVerdict& v) {
  return error_body("rate_limited",
                    "This API key may make " + std::to_string(v.limit) + " requests per " +
                        std::to_string(v.per_seconds) +
                        " seconds, and has made them. Wait for the time in Retry-After; a clinic "
                        "admin can raise the key's limit.");
}

std::string address_error(std::string_view address) {
  const std::string shown = address.empty() ? std::string("an address the server cannot tell")
                                            : std::string(address.substr(0, 64));
  return error_body("ip_not_allowed", "This API key may not be used from " + shown +
                                          ". A clinic admin can add it to the key's allowed addresses.");
}

// {"error":{"code":"insufficient_scope","message":"...","doc":"...","scope":"<the scope>"}}
std::string scope_error(std::string_view scope) {
  boost::json::object err;
  err["code"] = "insufficient_scope";
  err["message"] = "This API key lacks the scope '" + std::string(scope) +
                   "' that this request needs. A clinic admin can create a key with it.";
  err["doc"] = error_doc_ref("insufficient_scope");
  err["scope"] = scope;
  return boost::json::serialize(boost::json::object{{"error", std::move(err)}});
}

}  // namespace

bool query_holds_key(std::string_view q) noexcept {
  if (q.size() > kMaxQueryScan) q = q.substr(0, kMaxQueryScan);
  while (!q.empty()) {
    const auto amp = q.find_first_of("&;");
    std::string_view pair = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view{} : q.substr(amp + 1);
    const auto eq = pair.find('=');
    const std::string_view name = pair.substr(0, eq);
    const std::string_view value =
        eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
    char buf[24];
    if (name.size() <= 3 * 16) {
      const std::size_t n = decode_lower(name, buf, sizeof buf);
      for (auto k : kKeyParams)
        if (std::string_view(buf, n) == k) return true;
    }
    // A key pasted as a value, or as a bare parameter ("?mdp_..."), whatever the name.
    for (std::string_view part : {name, value}) {
      const std::size_t n = decode_lower(part, buf, 4);
      if (std::string_view(buf, n) == "mdp_") return true;
    }
  }
  return false;
}

RequestHook::RequestHook(std::shared_ptr<PluginContext> ctx)
    : ctx_(std::move(ctx)),
      // The catalogue's messages (errors/error_codes.def): the hook has nothing to add to them.
      missing_(error_body("missing_api_key")),
      invalid_(error_body("invalid_api_key")),
      in_query_(error_body("api_key_in_query_not_allowed")),
      revoked_(error_body("revoked_api_key")),
      expired_(error_body("expired_api_key")),
      not_enabled_(error_body("api_access_not_enabled")),
      throttled_(error_body("too_many_failed_attempts")),
      unavailable_(error_body("service_unavailable")) {}

void RequestHook::refuse(host::ApiDecision& d, int status, const std::string& body) const noexcept {
  d.allowed = false;
  d.clinic_id = 0;
  d.status = status;
  try {
    d.body = body;
  } catch (...) {
  }
}

void RequestHook::invalid(host::ApiDecision& d, const host::ApiRequest& req) const noexcept {
  refuse(d, 401, invalid_);
  try {
    ctx_->throttle.failed(req.client_address(), ctx_->now());
  } catch (...) {
  }
}

void RequestHook::unavailable(host::ApiDecision& d) const noexcept {
  refuse(d, 503, unavailable_);
  d.retry_after = kRetryAfterSeconds;
}

void RequestHook::on_api_request(const host::ApiRequest& req, host::ApiDecision& d) noexcept {
  decide(req, d);
  ctx_->metrics.decided(d);
}

void RequestHook::decide(const host::ApiRequest& req, host::ApiDecision& d) noexcept {
  try {
    if (query_holds_key(req.query())) return refuse(d, 401, in_query_);

    // Collect the presented keys: every Authorization: Bearer value and every X-API-Key value.
    std::string_view key;
    bool present = false, conflict = false;
    std::string_view lines[kMaxHeaderLines];
    auto offer = [&](std::string_view candidate) {
      if (!present) {
        key = candidate;
        present = true;
      } else if (candidate != key) {
        conflict = true;
      }
    };
    std::size_t n = req.headers("Authorization", lines, kMaxHeaderLines);
    if (n > kMaxHeaderLines) conflict = true;
    for (std::size_t i = 0; i < std::min(n, kMaxHeaderLines); ++i) {
      const std::string_view v = trim(lines[i]);
      const auto sp = v.find_first_of(" \t");
      if (!iequals(v.substr(0, sp), "Bearer")) continue;  // another scheme is not ours
      offer(sp == std::string_view::npos ? std::string_view{} : trim(v.substr(sp)));
    }
    n = req.headers("X-API-Key", lines, kMaxHeaderLines);
    if (n > kMaxHeaderLines) conflict = true;
    for (std::size_t i = 0; i < std::min(n, kMaxHeaderLines); ++i) offer(trim(lines[i]));

    PluginContext& ctx = *ctx_;
    if (!present) {
      refuse(d, 401, missing_);
      d.www_authenticate = "Bearer";
      return;
    }
    if (conflict || !matches_grammar(key)) return invalid(d, req);

    const Digest digest = ctx.hashers.sha256(key);
    // The cache compares all 32 bytes of the digest: a hit is the key (SHA-256 collisions
    // aside), so no second comparison follows.
    CacheEntry* e = ctx.cache.find(digest);
    (e != nullptr ? ctx.metrics.key_cache_hit : ctx.metrics.key_cache_miss).add(1);
    if (e == nullptr) {
      // Not a key this process knows: the address's recent failures may bar a lookup.
      if (const int wait = ctx.throttle.retry_after(req.client_address(), ctx.now()); wait > 0) {
        refuse(d, 429, throttled_);
        d.retry_after = wait;
        return;
      }
      if (!ctx.hashers.checksum_ok(key)) return invalid(d, req);
      const bool known_miss = ctx.misses.contains(digest);
      (known_miss ? ctx.metrics.miss_cache_hit : ctx.metrics.miss_cache_miss).add(1);
      if (known_miss) return invalid(d, req);
      const auto started = std::chrono::steady_clock::now();
      const auto r = ctx.loader.load(digest);
      ctx.metrics.key_lookup(r.outcome, std::chrono::steady_clock::now() - started);
      if (r.outcome == KeyLoader::Outcome::unavailable) return unavailable(d);
      if (r.outcome == KeyLoader::Outcome::unknown) {
        ctx.misses.add(digest);
        return invalid(d, req);
      }
      e = r.entry;
      ctx.rates.seed(*e);  // PostgreSQL: what the other processes admitted for this key
    }

    // From here on the key is known: every outcome counts against it.
    d.token = reinterpret_cast<std::uintptr_t>(e);
    {
      std::string_view agent;
      req.headers("User-Agent", &agent, 1);
      e->usage.note_client(req.client_address(), agent);
    }
    const Micros now = ctx.now();
    if (e->revoked.load(std::memory_order_acquire)) return refuse(d, 401, revoked_);
    if (e->expires_at.load(std::memory_order_acquire) <= now) return refuse(d, 401, expired_);
    // Out of touch with the change feed for longer than the offline grace: a revocation may
    // have been missed, so "active" is no longer an answer.
    if (ctx.feed.stale()) return unavailable(d);
    switch (ctx.plans.check(*e->plan, ctx.host.subscriptions(), e->clinic_id)) {
      case PlanVerdict::enabled: break;
      case PlanVerdict::disabled: return refuse(d, 403, not_enabled_);
      case PlanVerdict::unavailable: return unavailable(d);
    }
    // A usable key: every answer from here on carries its rate-limit fields.
    const KeyRules& rules = e->rules();
    const RateLimit limit = rules.rate_limit ? *rules.rate_limit
                            : Entitlements::by_addon(*e->plan) ? ctx.config.addon_rate_limit
                                                                : ctx.config.tier_rate_limit;
    // Outside the key's allowed addresses: refused before the limit, so a stranger holding the
    // key cannot spend the integration's quota.
    if (!rules.allowed.allows(req.client_address())) {
      rate_fields(req, e->rate.peek(limit.requests, limit.per_seconds, now));
      refuse(d, 403, "");
      d.body = address_error(req.client_address());
      return;
    }
    const RateVerdict rate = e->rate.admit(limit.requests, limit.per_seconds, now);
    rate_fields(req, rate);
    if (!rate.allowed) {
      refuse(d, 429, "");
      d.body = rate_error(rate);
      d.retry_after = static_cast<int>(rate.reset_seconds);
      d.token |= kRateLimitedBit;  // counted apart in the key's usage
      return;
    }
    const std::string_view scope = req.required_scope();
    if (!scope.empty() && !rules.has_scope(scope)) {
      refuse(d, 403, "");
      d.body = scope_error(scope);
      return;
    }
    d.allowed = true;
    d.status = 0;
    d.clinic_id = e->clinic_id;
    // Least privilege: which scope this key used (written with the usage flush).
    if (!scope.empty()) e->scopes_used.record(ctx.scope_index(scope), ctx.scope_names.size(), now);
  } catch (...) {
    // Only allocation can throw above; refuse rather than let anything cross into the host.
    // refuse() swallows a second allocation failure, so the host then writes its own JSON.
    unavailable(d);
  }
}

void RequestHook::on_api_response(std::uint64_t token, int status) noexcept {
  if (token == 0) return;
  auto* e = reinterpret_cast<CacheEntry*>(static_cast<std::uintptr_t>(token & ~kRateLimitedBit));
  e->usage.record(ctx_->now(), status, (token & kRateLimitedBit) != 0);
}

void RequestHook::on_api_records(std::uint64_t token, const host::RecordTouch* records,
                                 std::size_t count) noexcept {
  // A refused request runs no handler, so a host reporting records for a rate-limited token
  // (its low bit set) reports nothing the key disclosed.
  if (token == 0 || (token & kRateLimitedBit) != 0) return;
  const auto* e = reinterpret_cast<const CacheEntry*>(static_cast<std::uintptr_t>(token));
  ctx_->disclosures.record(e->key_id, ctx_->now(), records, count);
}

}  // namespace mdp::api_access
