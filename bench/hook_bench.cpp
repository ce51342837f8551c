// Benchmarks of the api-access request hook. Run through scripts/bench.sh;
// figures and how to read them: BENCHMARKS.md.
//
//   (a) BM_Floor_*        SHA-256 of a key + hash-map find + 32-byte Botan::constant_time_compare:
//                         Raw = a reused Botan "SHA-256" object (the plugin's digest_of) and a plain
//                         std::unordered_map; PluginTypes = the plugin's own HasherPool and KeyCache.
//   (b) BM_Hook_*         RequestHook::on_api_request on a valid cached key, a bad checksum and a
//                         revoked key (and on_api_request + on_api_response for the valid key,
//                         reported separately), on a real SQLite file database in WAL mode with the
//                         plugin's migrations applied (mdp_devhost_core: SociDatabase,
//                         apply_migrations, ManualClock).
//   (c) BM_Miss_Hook      every timed iteration presents a key that exists in the database but not
//                         in the hook's cache (a fresh PluginContext whenever the pool of keys is
//                         used up, outside the timed region), so each one is a genuine miss served
//                         by SQLite through the KeyLoader;
//       BM_Miss_BareSqlite the same SELECT by the same UNIQUE index (key_hash), soci statement
//                         prepared once, on the same file database, over the same keys.
//   (d) BM_Flush          UsageFlusher::flush of N dirty key-day rows in one transaction; time per
//                         row in the `per_row` counter.
//   (g) BM_Traffic_*      on_api_request on a cached valid key: Plain (no limit
//                         or list of its own: the plan's default limit applies, as for every
//                         key), Limit (its own rate limit), LimitAndList (its own limit and an
//                         allow-list of 8 networks, IPv4 and IPv6, the client in the last one:
//                         the longest scan), ListOutside (the same list, the client outside:
//                         403 ip_not_allowed). Compare with BENCHMARKS.md's figure for the hook
//                         before rate limits existed (the same benchmark built from that commit).
//
// Rate limits: every key now has one, so the context's default is 1,000,000 requests per 1 s and
// a thread moves the host clock by one second every 20 ms of real time: no benchmark ever reaches
// its limit (a thread decides at most about 100,000 requests in 20 ms), each one crosses a
// window now and then as production does, and every decision is still checked.
//   (f) BM_Metrics_{Off,On}_*  on_api_request with metrics off (the SDK's NoMetrics) and on (the
//                         devhost's PrometheusMetrics): valid key with 1, 2, 4 threads, revoked key.
//   (g) BM_Disclosure_{Off,On}  a valid key's request + response without and with the handler's
//                         report of three patients read (on_api_records) between them; 1, 2, 4
//                         threads on one key, and (OwnKey_) each thread on a key of its own;
//                         RecordOnly: the recorder alone, one report of three patients;
//                         ReportAfterResponse: the report moved after the response (diagnostic).
//   (e) BM_Hook_Valid_Threads_*  (b) valid (request + response) with 1, 2, 4 threads sharing one
//                         hook: SameKey (every thread the same key: worst case, one integration
//                         hammering; also RequestOnly, without the usage counting), SameShard (a
//                         key per thread, all in one cache shard) and OwnKey (a key per thread,
//                         distinct shards). items_per_second is the aggregate over the threads.
//
// No assertion on time anywhere; the program only checks that each decision is the expected one
// (and aborts otherwise, so a figure can never come from the wrong path).
#include <benchmark/benchmark.h>

#include <array>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <unistd.h>
#include <unordered_map>
#include <vector>

#include <botan/hash.h>
#include <botan/mem_ops.h>
#include <botan/system_rng.h>
#include <soci/soci.h>

#include "auth/request_hook.hpp"
#include "bench_host.hpp"
#include "keys/key_format.hpp"
#include "mdp/host/sdk/migrations.hpp"
#include "mdp/host/sdk/no_metrics.hpp"
#include "plugin_context.hpp"
#include "services/clocks.hpp"
#include "services/host_services.hpp"
#include "services/prometheus_metrics.hpp"
#include "services/soci_database.hpp"

namespace api = mdp::api_access;
namespace host = mdp::host;
namespace devhost = mdp::devhost;

namespace {

[[noreturn]] void die(const std::string& why) {
  std::fprintf(stderr, "hook_bench: %s\n", why.c_str());
  std::exit(1);
}

constexpr host::ClinicId kClinic = 1;

using mdp::bench::BenchHost;

// A minimal request: GET /api/v1/ping, scope read, one Authorization header, no query.
class BenchRequest final : public host::ApiRequest {
 public:
  explicit BenchRequest(const std::string& key) : auth_("Bearer " + key) {}
  std::string_view method() const noexcept override { return "GET"; }
  std::string_view path() const noexcept override { return "/api/v1/ping"; }
  std::string_view query() const noexcept override { return {}; }
  std::size_t headers(std::string_view name, std::string_view* out,
                      std::size_t max) const noexcept override {
    // ASCII case folding inline: the host's own lookup cost is not what is measured here.
    static constexpr std::string_view kAuth = "authorization";
    if (name.size() != kAuth.size()) return 0;
    for (std::size_t i = 0; i < name.size(); ++i) {
      const char c = name[i];
      if ((c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c) != kAuth[i]) return 0;
    }
    if (max > 0) out[0] = auth_;
    return 1;
  }
  std::string_view required_scope() const noexcept override { return "read"; }
  std::string_view client_address() const noexcept override { return address_; }
  // Copies what the hook adds, as a host must (into buffers reused across requests: the copy
  // measured is the plugin's formatting plus two string assignments, not a host's allocator).
  void add_response_header(std::string_view name, std::string_view value) const noexcept override {
    const std::size_t i = extra_++ & 1;  // the hook adds two per request
    header_names_[i].assign(name);
    header_values_[i].assign(value);
  }
  std::string address_ = "192.0.2.10";

 private:
  std::string auth_;
  mutable std::size_t extra_ = 0;
  mutable std::string header_names_[2], header_values_[2];
};

// ---------------------------------------------------------------------------------------------
// The shared environment, built once in main().
struct Env {
  std::filesystem::path file;
  std::unique_ptr<BenchHost> host;
  std::unique_ptr<devhost::PrometheusMetrics> prometheus;  // (f): the "metrics on" host service
  std::shared_ptr<api::PluginContext> ctx;  // the hook of (b) and (e)
  std::shared_ptr<api::RequestHook> hook;

  std::string valid, revoked, bad_checksum;
  std::string limited, listed;  // (g): own rate limit; own rate limit and an 8-network allow-list
  std::vector<std::string> thread_keys;      // (e) OwnKey: one valid key per thread, distinct shards
  std::vector<std::string> same_shard_keys;  // (e) SameShard: one per thread, all in one shard
  // Keys that exist in the database only (bulk-inserted): for misses and flushes.
  std::vector<std::string> bulk_keys;
  std::vector<std::string> bulk_hex;  // to_hex(SHA-256) of each, for the bare lookup
};
Env* g_env = nullptr;

// Limits no benchmark reaches (see the top of this file), for the plan default and the keys of (g).
constexpr api::RateLimit kBenchLimit{1'000'000, 1};

std::shared_ptr<api::PluginContext> new_context() {
  api::PluginConfig config;
  config.tier_rate_limit = kBenchLimit;
  config.addon_rate_limit = kBenchLimit;
  return std::make_shared<api::PluginContext>(*g_env->host, config);
}

api::KeyRecord create_key(api::PluginContext& ctx, const std::string& secret, const std::string& label,
                          std::optional<api::RateLimit> limit = std::nullopt,
                          const std::vector<std::string>& allowed = {}) {
  api::NewKey nk;
  nk.rate_limit = limit;
  std::string why;
  auto filter = api::AddressFilter::parse(allowed, why);
  if (!filter) die("allow-list: " + why);
  nk.allowed = *filter;
  nk.clinic_id = kClinic;
  nk.label = label;
  nk.scopes = {"read"};
  nk.key_hash = api::to_hex(api::digest_of(secret));
  nk.preview = api::preview_of(secret);
  nk.created_by = {11, "Bench"};
  nk.created_at = ctx.now();
  return ctx.keys.create(nk);
}

// Bulk keys straight into api_access_keys, one transaction (only the hook's columns matter).
void insert_bulk(std::size_t n) {
  Botan::System_RNG rng;
  auto sha = Botan::HashFunction::create_or_throw("SHA-256");
  host::SessionLease sql(g_env->host->db, std::chrono::seconds(5));
  if (!sql) die("no session");
  std::string hash, preview;
  long long created_at = api::to_micros(g_env->host->clock_.now());
  soci::transaction tx(*sql);
  soci::statement ins =
      (sql->prepare << "INSERT INTO api_access_keys (clinic_id, label, scopes, key_hash, preview, "
                       "created_by_id, created_by_name, created_at) "
                       "VALUES (1, 'bulk', 'read', :h, :p, 11, 'Bench', :t)",
       soci::use(hash), soci::use(preview), soci::use(created_at));
  for (std::size_t i = 0; i < n; ++i) {
    std::string k = api::generate_key(rng);
    hash = api::to_hex(api::digest_of(k, *sha));
    preview = api::preview_of(k);
    ins.execute(true);
    g_env->bulk_keys.push_back(std::move(k));
    g_env->bulk_hex.push_back(hash);
  }
  tx.commit();
}

host::ApiDecision decide(api::RequestHook& hook, const BenchRequest& r) {
  host::ApiDecision d;
  hook.on_api_request(r, d);
  return d;
}

void expect(bool ok, const char* what) {
  if (!ok) die(std::string("unexpected decision: ") + what);
}

// ---------------------------------------------------------------------------------------------
// (a) The floor.
std::vector<api::Digest> random_digests(std::size_t n) {
  std::mt19937_64 gen(42);
  std::vector<api::Digest> out(n);
  for (auto& d : out)
    for (std::size_t i = 0; i < d.size(); i += 8) {
      const std::uint64_t v = gen();
      std::memcpy(d.data() + i, &v, 8);
    }
  return out;
}

void BM_Floor_Raw(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const std::string& key = g_env->valid;
  auto sha = Botan::HashFunction::create_or_throw("SHA-256");
  // The value is a pointer to the stored digest, as the cache's value is a pointer to an entry
  // holding it: the compare reads through it.
  std::vector<api::Digest> stored = random_digests(n - 1);
  stored.push_back(api::digest_of(key));
  std::unordered_map<api::Digest, const api::Digest*, api::DigestHash> map;
  map.reserve(n);
  for (const auto& d : stored) map.emplace(d, &d);
  for (auto _ : state) {
    const api::Digest d = api::digest_of(key, *sha);
    auto it = map.find(d);
    const bool ok = it != map.end() && Botan::constant_time_compare(it->second->data(), d.data(), d.size());
    benchmark::DoNotOptimize(ok);
  }
}
BENCHMARK(BM_Floor_Raw)->Arg(16)->Arg(100000);

void BM_Floor_PluginTypes(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const std::string& key = g_env->valid;
  api::HasherPool pool;
  api::KeyCache cache;
  std::vector<api::Digest> ds = random_digests(n - 1);
  ds.push_back(api::digest_of(key));
  api::KeyId id = 1;
  for (const auto& d : ds) {
    auto e = std::make_unique<api::CacheEntry>();
    e->digest = d;
    e->key_id = id++;
    cache.insert(std::move(e));
  }
  for (auto _ : state) {
    const api::Digest d = pool.sha256(key);
    const api::CacheEntry* e = cache.find(d);
    const bool ok = e != nullptr && Botan::constant_time_compare(e->digest.data(), d.data(), d.size());
    benchmark::DoNotOptimize(ok);
  }
}
BENCHMARK(BM_Floor_PluginTypes)->Arg(16)->Arg(100000);

// Parts of the hot path, to see where the hook's time goes (BENCHMARKS.md, "Where the time goes").
void BM_Part_Sha256_Pooled(benchmark::State& state) {  // HasherPool::sha256 of the 62-char key
  api::HasherPool pool;
  const std::string& key = g_env->valid;
  for (auto _ : state) benchmark::DoNotOptimize(pool.sha256(key));
}
BENCHMARK(BM_Part_Sha256_Pooled);

void BM_Part_Sha256_48B(benchmark::State& state) {  // the 48-byte reference case
  auto sha = Botan::HashFunction::create_or_throw("SHA-256");
  const std::string key = g_env->valid.substr(0, 48);
  for (auto _ : state) benchmark::DoNotOptimize(api::digest_of(key, *sha));
}
BENCHMARK(BM_Part_Sha256_48B);

void BM_Part_ConstantTimeCompare32(benchmark::State& state) {
  const api::Digest a = api::digest_of(g_env->valid);
  api::Digest b = a;
  for (auto _ : state) {
    benchmark::DoNotOptimize(b);
    benchmark::DoNotOptimize(Botan::constant_time_compare(a.data(), b.data(), a.size()));
  }
}
BENCHMARK(BM_Part_ConstantTimeCompare32);

// A proposal, not the plugin's code: the 32-byte compare as four 64-bit XOR/OR (no branch on the
// data before the single final test), checked against Botan's in build_env().
bool digest_equal_words(const api::Digest& a, const api::Digest& b) noexcept {
  std::uint64_t diff = 0;
  for (std::size_t i = 0; i < a.size(); i += 8) {
    std::uint64_t x, y;
    std::memcpy(&x, a.data() + i, 8);
    std::memcpy(&y, b.data() + i, 8);
    diff |= x ^ y;
  }
  return diff == 0;
}

void BM_Part_WordCompare32Proposal(benchmark::State& state) {
  const api::Digest a = api::digest_of(g_env->valid);
  api::Digest b = a;
  for (auto _ : state) {
    benchmark::DoNotOptimize(b);
    benchmark::DoNotOptimize(digest_equal_words(a, b));
  }
}
BENCHMARK(BM_Part_WordCompare32Proposal);

void BM_Part_MatchesGrammar(benchmark::State& state) {
  std::string key = g_env->valid;
  for (auto _ : state) {
    benchmark::DoNotOptimize(key);
    benchmark::DoNotOptimize(api::matches_grammar(key));
  }
}
BENCHMARK(BM_Part_MatchesGrammar);


void BM_Part_KeyCacheFind(benchmark::State& state) {  // the shared hook's cache (a few keys)
  const api::Digest d = api::digest_of(g_env->valid);
  for (auto _ : state) benchmark::DoNotOptimize(g_env->ctx->cache.find(d));
}
BENCHMARK(BM_Part_KeyCacheFind);

// ---------------------------------------------------------------------------------------------
// (b) The hook deciding, on the shared hook (its cache holds a handful of keys).
void BM_Hook_Valid_Request(benchmark::State& state) {
  BenchRequest r(g_env->valid);
  expect(decide(*g_env->hook, r).allowed, "valid");
  for (auto _ : state) {
    host::ApiDecision d;
    g_env->hook->on_api_request(r, d);
    benchmark::DoNotOptimize(d.allowed);
  }
}
BENCHMARK(BM_Hook_Valid_Request);

void BM_Hook_Valid_RequestResponse(benchmark::State& state) {
  BenchRequest r(g_env->valid);
  for (auto _ : state) {
    host::ApiDecision d;
    g_env->hook->on_api_request(r, d);
    g_env->hook->on_api_response(d.token, 200);
    benchmark::DoNotOptimize(d.allowed);
  }
}
BENCHMARK(BM_Hook_Valid_RequestResponse);

// The same valid key with 100,000 other keys in the hook's cache (a fresh context warmed by
// sending every bulk key through the hook once), to compare with BM_Floor_*/100000.
std::shared_ptr<api::PluginContext> g_big_ctx;
std::shared_ptr<api::RequestHook> g_big_hook;
void BM_Hook_Valid_Request_BigCache(benchmark::State& state) {
  BenchRequest r(g_env->valid);
  expect(decide(*g_big_hook, r).allowed, "valid (big cache)");
  state.counters["cached_keys"] = static_cast<double>(g_big_ctx->cache.size());
  for (auto _ : state) {
    host::ApiDecision d;
    g_big_hook->on_api_request(r, d);
    benchmark::DoNotOptimize(d.allowed);
  }
}
BENCHMARK(BM_Hook_Valid_Request_BigCache);

// A refusal the hook decides without the database: checks the status and code once, then times it.
void bench_refusal(benchmark::State& state, const std::string& key, const char* code) {
  BenchRequest r(key);
  {
    const auto d = decide(*g_env->hook, r);
    expect(!d.allowed && d.status == 401 && d.body.find(code) != std::string::npos, code);
  }
  for (auto _ : state) {
    host::ApiDecision d;
    g_env->hook->on_api_request(r, d);
    benchmark::DoNotOptimize(d.status);
  }
}

void BM_Hook_BadChecksum_Request(benchmark::State& state) {
  bench_refusal(state, g_env->bad_checksum, "invalid_api_key");
}
BENCHMARK(BM_Hook_BadChecksum_Request);

void BM_Hook_Revoked_Request(benchmark::State& state) {
  bench_refusal(state, g_env->revoked, "revoked_api_key");
}
BENCHMARK(BM_Hook_Revoked_Request);

// ---------------------------------------------------------------------------------------------
// (c) A cache miss served by SQLite, beside the bare prepared lookup.
void BM_Miss_Hook(benchmark::State& state) {
  const auto& keys = g_env->bulk_keys;
  std::vector<BenchRequest> reqs;
  reqs.reserve(keys.size());
  for (const auto& k : keys) reqs.emplace_back(k);
  auto ctx = new_context();
  auto hook = std::make_shared<api::RequestHook>(ctx);
  std::size_t i = 0, contexts = 1;
  for (auto _ : state) {
    if (i == reqs.size()) {
      state.PauseTiming();
      hook.reset();
      ctx.reset();
      ctx = new_context();
      hook = std::make_shared<api::RequestHook>(ctx);
      i = 0;
      ++contexts;
      state.ResumeTiming();
    }
    host::ApiDecision d;
    hook->on_api_request(reqs[i++], d);
    if (!d.allowed) die("miss not allowed");
  }
  state.counters["contexts"] = static_cast<double>(contexts);
}
BENCHMARK(BM_Miss_Hook);

void BM_Miss_BareSqlite(benchmark::State& state) {
  const auto& hexes = g_env->bulk_hex;
  host::SessionLease sql(g_env->host->db, std::chrono::seconds(5));
  if (!sql) die("no session");
  std::string h;
  long long id = 0, clinic = 0, revoked = 0, expires = 0;
  std::string scopes, preview;
  soci::indicator ir = soci::i_null, ie = soci::i_null;
  soci::statement st =
      (sql->prepare << "SELECT id, clinic_id, scopes, preview, revoked_at, expires_at "
                       "FROM api_access_keys WHERE key_hash = :h",
       soci::into(id), soci::into(clinic), soci::into(scopes), soci::into(preview),
       soci::into(revoked, ir), soci::into(expires, ie), soci::use(h));
  std::size_t i = 0;
  for (auto _ : state) {
    if (i == hexes.size()) i = 0;
    h = hexes[i++];
    const bool found = st.execute(true);
    if (found) st.fetch();  // step to the end, as the loader does
    if (!found) die("bare lookup found nothing");
    benchmark::DoNotOptimize(id);
  }
}
BENCHMARK(BM_Miss_BareSqlite);

// ---------------------------------------------------------------------------------------------
// (d) The usage flush: N dirty key-day rows (N cached keys, one response each), one transaction.
void BM_Flush(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  if (n > g_env->bulk_keys.size()) die("not enough bulk keys");
  auto ctx = new_context();
  auto hook = std::make_shared<api::RequestHook>(ctx);
  std::vector<std::uint64_t> tokens;
  for (std::size_t i = 0; i < n; ++i) {
    const auto d = decide(*hook, BenchRequest(g_env->bulk_keys[i]));
    expect(d.allowed && d.token != 0, "flush key");
    tokens.push_back(d.token);
  }
  if (!ctx->flush_usage()) die("flush failed");  // first flush inserts the rows
  for (auto _ : state) {
    state.PauseTiming();
    for (auto t : tokens) hook->on_api_response(t, 200);
    state.ResumeTiming();
    if (!ctx->flush_usage()) die("flush failed");
  }
  state.counters["rows"] = static_cast<double>(n);
  state.counters["per_row"] = benchmark::Counter(static_cast<double>(n),
                                                 benchmark::Counter::kIsIterationInvariantRate |
                                                     benchmark::Counter::kInvert);
}
BENCHMARK(BM_Flush)->Arg(1)->Arg(100)->Arg(1000)->Unit(benchmark::kMicrosecond);

// ---------------------------------------------------------------------------------------------
// (e) Several threads sharing the hook of (b): each iteration decides `key` and, unless
// `count_usage` is false, reports the response as the host would.
void decide_in_threads(benchmark::State& state, const std::string& key, bool count_usage) {
  BenchRequest r(key);
  for (auto _ : state) {
    host::ApiDecision d;
    g_env->hook->on_api_request(r, d);
    if (count_usage) g_env->hook->on_api_response(d.token, 200);
    benchmark::DoNotOptimize(d.allowed);
  }
  state.SetItemsProcessed(state.iterations());
}
std::size_t thread_slot(const benchmark::State& state) { return static_cast<std::size_t>(state.thread_index()); }

// Every thread the same key.
void BM_Hook_Valid_Threads_SameKey(benchmark::State& state) { decide_in_threads(state, g_env->valid, true); }
BENCHMARK(BM_Hook_Valid_Threads_SameKey)->Threads(1)->Threads(2)->Threads(4)->UseRealTime();

// Same key, no usage counting: what the shared counters cost.
void BM_Hook_Valid_Threads_SameKey_RequestOnly(benchmark::State& state) {
  decide_in_threads(state, g_env->valid, false);
}
BENCHMARK(BM_Hook_Valid_Threads_SameKey_RequestOnly)->Threads(1)->Threads(2)->Threads(4)->UseRealTime();

// One key per thread, all four keys in the same cache shard (they share its table, no lock).
void BM_Hook_Valid_Threads_SameShard(benchmark::State& state) {
  decide_in_threads(state, g_env->same_shard_keys.at(thread_slot(state)), true);
}
BENCHMARK(BM_Hook_Valid_Threads_SameShard)->Threads(1)->Threads(2)->Threads(4)->UseRealTime();

// One key per thread, each in a different cache shard.
void BM_Hook_Valid_Threads_OwnKey(benchmark::State& state) {
  decide_in_threads(state, g_env->thread_keys.at(thread_slot(state)), true);
}
BENCHMARK(BM_Hook_Valid_Threads_OwnKey)->Threads(1)->Threads(2)->Threads(4)->UseRealTime();

// ---------------------------------------------------------------------------------------------
// (f) Metrics off against on: two hooks built the same way, one on a host whose metrics() is the
// SDK's NoMetrics (off), one on the devhost's PrometheusMetrics (on: every decision adds to the
// decision and cache counters, a refusal also finds its code's series). Same valid and revoked
// keys, 1, 2 and 4 threads sharing each hook.
struct MetricsHooks {
  std::shared_ptr<api::PluginContext> off_ctx, on_ctx;
  std::shared_ptr<api::RequestHook> off, on;
};
MetricsHooks* g_metrics = nullptr;

void decide_on(benchmark::State& state, api::RequestHook& hook, const std::string& key, bool allowed) {
  BenchRequest r(key);
  const auto first = decide(hook, r);
  if (first.allowed != allowed)
    die(std::string(allowed ? "valid" : "revoked") + " (metrics): " + std::to_string(first.status) +
        " " + first.body);
  for (auto _ : state) {
    host::ApiDecision d;
    hook.on_api_request(r, d);
    benchmark::DoNotOptimize(d.allowed);
  }
  state.SetItemsProcessed(state.iterations());
}
void BM_Metrics_Off_Valid(benchmark::State& state) { decide_on(state, *g_metrics->off, g_env->valid, true); }
void BM_Metrics_On_Valid(benchmark::State& state) { decide_on(state, *g_metrics->on, g_env->valid, true); }
void BM_Metrics_Off_Revoked(benchmark::State& state) { decide_on(state, *g_metrics->off, g_env->revoked, false); }
void BM_Metrics_On_Revoked(benchmark::State& state) { decide_on(state, *g_metrics->on, g_env->revoked, false); }
BENCHMARK(BM_Metrics_Off_Valid)->Threads(1)->Threads(2)->Threads(4)->UseRealTime();
BENCHMARK(BM_Metrics_On_Valid)->Threads(1)->Threads(2)->Threads(4)->UseRealTime();
BENCHMARK(BM_Metrics_Off_Revoked);
BENCHMARK(BM_Metrics_On_Revoked);

// ---------------------------------------------------------------------------------------------
// (g) Disclosure accounting off against on: a valid cached key, request + response (Off: the
// plain cached decision with usage counting), and the same with the handler's report of three
// patients read between them (On: what GET /api/v1/patients reports for the demo clinic). Every
// thread the same key (one key's tally shared by all threads: the worst case), 1, 2, 4 threads.
enum class Report { none, between, after_response };
void disclose_in_threads(benchmark::State& state, const std::string& key, Report report) {
  BenchRequest r(key);
  const host::RecordTouch touched[3] = {{"patient", 1, host::RecordAccess::read},
                                        {"patient", 2, host::RecordAccess::read},
                                        {"patient", 3, host::RecordAccess::read}};
  for (auto _ : state) {
    host::ApiDecision d;
    g_env->hook->on_api_request(r, d);
    if (report == Report::between) g_env->hook->on_api_records(d.token, touched, 3);
    g_env->hook->on_api_response(d.token, 200);
    if (report == Report::after_response) g_env->hook->on_api_records(d.token, touched, 3);
    benchmark::DoNotOptimize(d.allowed);
  }
  state.SetItemsProcessed(state.iterations());
}
void BM_Disclosure_Off(benchmark::State& state) { disclose_in_threads(state, g_env->valid, Report::none); }
void BM_Disclosure_On(benchmark::State& state) { disclose_in_threads(state, g_env->valid, Report::between); }
BENCHMARK(BM_Disclosure_Off)->Threads(1)->Threads(2)->Threads(4)->UseRealTime();
BENCHMARK(BM_Disclosure_On)->Threads(1)->Threads(2)->Threads(4)->UseRealTime();
// Not what a host does (it reports between request and response): the same report after the
// response. Against On it shows what the shared key's counters cost when other work separates
// the request from its response, as any handler's work does.
void BM_Disclosure_ReportAfterResponse(benchmark::State& state) {
  disclose_in_threads(state, g_env->valid, Report::after_response);
}
BENCHMARK(BM_Disclosure_ReportAfterResponse)->Threads(1)->Threads(2)->Threads(4)->UseRealTime();
// The same with a key per thread (several integrations at once): no key's counters are shared,
// so what remains between threads is the recorder's own cost.
void BM_Disclosure_OwnKey_Off(benchmark::State& state) {
  disclose_in_threads(state, g_env->thread_keys.at(thread_slot(state)), Report::none);
}
void BM_Disclosure_OwnKey_On(benchmark::State& state) {
  disclose_in_threads(state, g_env->thread_keys.at(thread_slot(state)), Report::between);
}
BENCHMARK(BM_Disclosure_OwnKey_Off)->Threads(1)->Threads(2)->Threads(4)->UseRealTime();
BENCHMARK(BM_Disclosure_OwnKey_On)->Threads(1)->Threads(2)->Threads(4)->UseRealTime();
// The recorder alone: one report of three patients, each thread a key of its own.
void BM_Disclosure_RecordOnly(benchmark::State& state) {
  const std::int64_t key_id = 1000 + state.thread_index();
  const host::RecordTouch touched[3] = {{"patient", 1, host::RecordAccess::read},
                                        {"patient", 2, host::RecordAccess::read},
                                        {"patient", 3, host::RecordAccess::read}};
  const api::Micros now = g_env->ctx->now();
  for (auto _ : state) g_env->ctx->disclosures.record(key_id, now, touched, 3);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Disclosure_RecordOnly)->Threads(1)->Threads(2)->Threads(4)->UseRealTime();
// (h) Traffic controls: the same request + response on keys with and without their own.
void traffic(benchmark::State& state, const std::string& key, const char* address, bool allowed) {
  BenchRequest r(key);
  r.address_ = address;
  const auto first = decide(*g_env->hook, r);
  if (first.allowed != allowed) die(std::string("traffic: ") + std::to_string(first.status) + " " + first.body);
  for (auto _ : state) {
    host::ApiDecision d;
    g_env->hook->on_api_request(r, d);
    benchmark::DoNotOptimize(d.allowed);
  }
  if (decide(*g_env->hook, r).allowed != allowed) die("traffic: the decision changed while timing");
  state.SetItemsProcessed(state.iterations());
}
void BM_Traffic_Plain(benchmark::State& state) { traffic(state, g_env->valid, "192.0.2.10", true); }
void BM_Traffic_Limit(benchmark::State& state) { traffic(state, g_env->limited, "192.0.2.10", true); }
void BM_Traffic_LimitAndList(benchmark::State& state) { traffic(state, g_env->listed, "192.0.2.10", true); }
void BM_Traffic_LimitAndList_V6(benchmark::State& state) { traffic(state, g_env->listed, "2001:db8:7::1", true); }
void BM_Traffic_ListOutside(benchmark::State& state) { traffic(state, g_env->listed, "198.51.100.1", false); }
BENCHMARK(BM_Traffic_Plain);
BENCHMARK(BM_Traffic_Limit);
BENCHMARK(BM_Traffic_LimitAndList);
BENCHMARK(BM_Traffic_LimitAndList_V6);
BENCHMARK(BM_Traffic_ListOutside);

// ---------------------------------------------------------------------------------------------
void build_env(std::size_t bulk) {
  const char* dir = std::getenv("MDP_BENCH_DIR");
  g_env->file = std::filesystem::path(dir != nullptr && *dir != '\0' ? dir
                                                                     : std::filesystem::temp_directory_path().string()) /
                ("mdp-hook-bench-" + std::to_string(::getpid()) + ".db");
  g_env->host = std::make_unique<BenchHost>(g_env->file);
  // A fixed mid-day start: no day change while the benchmarks run.
  g_env->host->clock_.set(host::TimePoint(std::chrono::sys_days{std::chrono::year{2026} / 11 / 26}) +
                          std::chrono::hours(9) + std::chrono::minutes(30));
  g_env->ctx = new_context();
  g_env->hook = std::make_shared<api::RequestHook>(g_env->ctx);
  api::PluginContext& ctx = *g_env->ctx;

  Botan::System_RNG rng;
  g_env->valid = api::generate_key(rng);
  create_key(ctx, g_env->valid, "bench valid");
  g_env->revoked = api::generate_key(rng);
  const auto rec = create_key(ctx, g_env->revoked, "bench revoked");
  g_env->limited = api::generate_key(rng);
  create_key(ctx, g_env->limited, "bench limited", kBenchLimit);
  g_env->listed = api::generate_key(rng);
  create_key(ctx, g_env->listed, "bench listed", kBenchLimit,
             {"10.0.0.0/8", "172.16.0.0/12", "2001:db8:1::/48", "203.0.113.0/24", "2001:db8:2::/48",
              "198.18.0.0/15", "2001:db8:7::/48", "192.0.2.0/24"});
  // The cache's shard of a digest, as KeyCache::shard_of computes it (private there).
  auto shard = [](const std::string& k) {
    return (api::DigestHash{}(api::digest_of(k)) >> 60) % api::KeyCache::kShards;
  };
  std::vector<bool> used(api::KeyCache::kShards, false);
  used[shard(g_env->valid)] = true;
  while (g_env->thread_keys.size() < 4) {
    std::string k = api::generate_key(rng);
    if (used[shard(k)]) continue;
    used[shard(k)] = true;
    create_key(ctx, k, "bench thread " + std::to_string(g_env->thread_keys.size()));
    g_env->thread_keys.push_back(std::move(k));
  }
  for (std::size_t target = 0; g_env->same_shard_keys.size() < 4;) {
    std::string k = api::generate_key(rng);
    if (g_env->same_shard_keys.empty()) {
      if (used[shard(k)]) continue;
      target = shard(k);
    } else if (shard(k) != target) {
      continue;
    }
    create_key(ctx, k, "bench shard " + std::to_string(g_env->same_shard_keys.size()));
    g_env->same_shard_keys.push_back(std::move(k));
  }
  // Bad checksum: a valid key with one body character changed (grammar still holds).
  std::string bad = g_env->valid;
  bad[10] = bad[10] == 'A' ? 'B' : 'A';
  if (!api::matches_grammar(bad) || api::checksum_ok(bad)) die("could not make a bad-checksum key");
  g_env->bad_checksum = bad;
  {
    std::mt19937_64 gen(7);
    const api::Digest a = api::digest_of(g_env->valid);
    for (int i = 0; i < 2000; ++i) {
      api::Digest b = a;
      if (i % 2 == 1) b[gen() % b.size()] ^= static_cast<std::uint8_t>(1u << (gen() % 8));
      if (digest_equal_words(a, b) != Botan::constant_time_compare(a.data(), b.data(), a.size()))
        die("digest_equal_words disagrees");
    }
  }

  insert_bulk(bulk);

  // Warm the shared hook: every key it will see, loaded once.
  for (const auto& k : g_env->thread_keys) expect(decide(*g_env->hook, BenchRequest(k)).allowed, "thread key");
  for (const auto& k : g_env->same_shard_keys) expect(decide(*g_env->hook, BenchRequest(k)).allowed, "shard key");
  expect(decide(*g_env->hook, BenchRequest(g_env->valid)).allowed, "valid");
  expect(decide(*g_env->hook, BenchRequest(g_env->limited)).allowed, "limited");
  expect(decide(*g_env->hook, BenchRequest(g_env->listed)).allowed, "listed");
  expect(decide(*g_env->hook, BenchRequest(g_env->revoked)).allowed, "revoked key before revoke");
  // Revoke as the admin route does: commit, then tell the cache.
  const auto revoked = ctx.keys.revoke(kClinic, rec.id, {11, "Bench"}, ctx.now());
  if (!revoked) die("revoke failed");
  ctx.key_changed(*revoked);

  // The big-cache hook: every bulk key loaded once.
  g_big_ctx = new_context();
  g_big_hook = std::make_shared<api::RequestHook>(g_big_ctx);
  for (const auto& k : g_env->bulk_keys) expect(decide(*g_big_hook, BenchRequest(k)).allowed, "bulk key");

  // (f): the "on" context resolves its series from the Prometheus registry, then the host goes
  // back to NoMetrics for every other benchmark.
  g_metrics = new MetricsHooks;
  g_metrics->off_ctx = new_context();
  g_env->prometheus = std::make_unique<devhost::PrometheusMetrics>(g_env->host->log_);
  g_env->host->metrics_ = g_env->prometheus.get();
  g_metrics->on_ctx = new_context();
  g_env->host->metrics_ = &g_env->host->no_metrics;
  g_metrics->off = std::make_shared<api::RequestHook>(g_metrics->off_ctx);
  g_metrics->on = std::make_shared<api::RequestHook>(g_metrics->on_ctx);
  // Both caches warmed here, one thread at a time: a miss borrows a pooled session, and this
  // host's pool of 4 is mostly held by the contexts' loaders.
  for (auto* hook : {g_metrics->off.get(), g_metrics->on.get()}) {
    expect(decide(*hook, BenchRequest(g_env->valid)).allowed, "valid (metrics hooks)");
    expect(!decide(*hook, BenchRequest(g_env->revoked)).allowed, "revoked (metrics hooks)");
  }
  // The "on" hook really counts into the registry (else its figure would measure nothing).
  expect(g_env->prometheus->exposition().find(
             "mdp_api_access_decisions_total{code=\"allowed\"} 1\n") != std::string::npos,
         "the metrics-on hook counted its decision");
}

void remove_db() {
  if (g_env == nullptr) return;
  if (g_metrics != nullptr) {
    delete g_metrics;
    g_metrics = nullptr;
  }
  g_big_hook.reset();
  g_big_ctx.reset();
  g_env->hook.reset();
  g_env->ctx.reset();
  g_env->host.reset();
  for (const char* suffix : {"", "-wal", "-shm"})
    std::filesystem::remove(g_env->file.string() + suffix);
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  const char* bulk_env = std::getenv("MDP_BENCH_KEYS");
  const std::size_t bulk = bulk_env != nullptr ? std::strtoul(bulk_env, nullptr, 10) : 100000;
  if (bulk < 1000) die("MDP_BENCH_KEYS must be at least 1000");
  Env env;
  g_env = &env;
  try {
    const auto t0 = std::chrono::steady_clock::now();
    build_env(bulk);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
    std::fprintf(stderr, "hook_bench: SQLite file (WAL) with %zu keys ready in %lld ms: %s\n", bulk + 10,
                 static_cast<long long>(ms.count()), env.file.c_str());
  } catch (const std::exception& e) {
    remove_db();
    die(std::string("setup failed: ") + e.what());
  }
  benchmark::AddCustomContext("sqlite_keys", std::to_string(bulk + 10));
  // The host clock moves one second every 20 ms (see the top of this file).
  std::atomic<bool> done{false};
  std::thread mover([&] {
    while (!done.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      env.host->clock_.advance(std::chrono::seconds(1));
    }
  });
  benchmark::RunSpecifiedBenchmarks();
  done = true;
  mover.join();
  benchmark::Shutdown();
  remove_db();
  return 0;
}
