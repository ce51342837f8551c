// The API Keys page of a clinic with 500 keys (480 working, 20 revoked, 30 days of usage each):
// how long the plugin takes to build the view model (PageSpec::view_model, the same code the
// devhost calls: the store's count and page queries, usage of the keys shown, the JSON), how
// long the devhost's renderer takes to turn it into HTML, and how many bytes the page is with
// and without gzip (the devhost's maybe_gzip). Figures: BENCHMARKS.md; run with
// `build/dev/bench/page_bench` (scripts/bench.sh runs it too).
#include <benchmark/benchmark.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <unistd.h>

#include <soci/soci.h>

#include "app/compression.hpp"
#include "bench_host.hpp"
#include "keys/key_format.hpp"
#include "pages/api_keys_page.hpp"
#include "plugin_context.hpp"
#include "render/render.hpp"

namespace api = mdp::api_access;
namespace host = mdp::host;

namespace {

constexpr host::ClinicId kClinic = 1;
constexpr int kKeys = 500, kRevoked = 20, kDays = 30;

struct Env {
  std::filesystem::path dir;
  std::unique_ptr<mdp::bench::BenchHost> host;
  std::shared_ptr<api::PluginContext> ctx;
  host::PageSpec page;
};
Env* g_env = nullptr;

Env& env() {
  if (g_env) return *g_env;
  g_env = new Env;
  g_env->dir = std::filesystem::temp_directory_path() / ("mdp-page-bench-" + std::to_string(::getpid()));
  std::filesystem::create_directories(g_env->dir);
  g_env->host = std::make_unique<mdp::bench::BenchHost>(g_env->dir / "bench.sqlite");
  g_env->ctx = std::make_shared<api::PluginContext>(*g_env->host);
  auto& ctx = *g_env->ctx;
  const api::Micros now = ctx.now_seconds();
  for (int i = 0; i < kKeys; ++i) {
    api::NewKey k;
    k.clinic_id = kClinic;
    k.label = "Integration " + std::to_string(i) + (i % 3 ? " (Power BI sync)" : " (booking widget)");
    k.scopes = {"read"};
    char hash[65];
    std::snprintf(hash, sizeof hash, "%064x", i + 1);
    k.key_hash = hash;
    k.preview = "mdp_\u2026" + std::string(1, static_cast<char>('A' + i % 26)) + std::to_string(1000 + i).substr(1);
    k.created_by = {1, "Olivia Hart"};
    k.created_at = now - (kKeys - i) * api::kMicrosPerSecond * 3600;
    const auto rec = ctx.keys.create(k);
    if (i < kRevoked) ctx.keys.revoke(kClinic, rec.id, {1, "Olivia Hart"}, now);
  }
  {  // 30 days of usage for every key, written as the usage flusher's rows are.
    host::SessionLease sql(ctx.host.database(), std::chrono::seconds(5));
    soci::transaction tx(*sql);
    long long key = 0, requests = 0, errors = 0;
    std::string day;
    soci::statement st = (sql->prepare << "INSERT INTO api_access_usage_daily (key_id, day, requests, client_errors, "
                                          "server_errors) VALUES (:k, :d, :r, :e, 0)",
                          soci::use(key), soci::use(day), soci::use(requests), soci::use(errors));
    const api::DayNumber today = api::day_of(now);
    for (key = 1; key <= kKeys; ++key)
      for (int d = 0; d < kDays; ++d) {
        day = api::format_date(today - d);
        requests = (key * 7 + d * 13) % 400;
        errors = requests / 50;
        st.execute(true);
      }
    tx.commit();
  }
  g_env->page = api::make_api_keys_page(g_env->ctx);
  return *g_env;
}

host::RouteRequest page_request(std::vector<host::NameValue> query = {}) {
  host::RouteRequest req;
  req.method = "GET";
  req.path = "integrations/api-keys";
  req.user = {1, kClinic, "Olivia Hart", "owner@brightsmiles.test", "admin"};
  req.query = std::move(query);
  return req;
}

mdp::devhost::render::PageChrome chrome() {
  mdp::devhost::render::PageChrome c;
  c.title = "API Keys";
  c.nav = {{"Account", "Billing & Subscription", "/settings/billing"},
           {"Integrations", "API Keys", "/settings/integrations/api-keys"}};
  c.user_name = "Olivia Hart";
  c.clinic_name = "Bright Smiles Dental";
  c.csrf_token = std::string(43, 'x');
  c.current_path = "/settings/integrations/api-keys";
  c.action_base = "/plugins/api-access/";
  return c;
}

// Bytes of the page as sent: HTML, and gzip as the devhost sends it to a browser.
void count_page(benchmark::State& state, const std::string& html) {
  mdp::devhost::HttpRequest req;
  req.method = "GET";
  req.target = "/settings/integrations/api-keys";
  req.headers.emplace_back("Accept-Encoding", "gzip, deflate, br");
  mdp::devhost::HttpResponse res{200, "text/html; charset=utf-8", html, {}};
  mdp::devhost::maybe_gzip(req, res);
  state.counters["html_bytes"] = static_cast<double>(html.size());
  state.counters["wire_bytes_gzip"] = static_cast<double>(res.body.size());
}

void run_view_model(benchmark::State& state, std::vector<host::NameValue> query) {
  Env& e = env();
  const auto req = page_request(std::move(query));
  std::string vm;
  for (auto _ : state) {
    vm = e.page.view_model(req);
    benchmark::DoNotOptimize(vm.data());
  }
  state.counters["view_model_bytes"] = static_cast<double>(vm.size());
  if (vm.find("could not be loaded") != std::string::npos) state.SkipWithError("the page failed to load");
}

// The default view: 25 of the 480 keys that are not revoked, newest first.
void BM_Page500_ViewModel_Default(benchmark::State& state) { run_view_model(state, {}); }
BENCHMARK(BM_Page500_ViewModel_Default)->Unit(benchmark::kMillisecond);

void BM_Page500_ViewModel_Search(benchmark::State& state) { run_view_model(state, {{"q", "widget"}, {"sort", "label"}}); }
BENCHMARK(BM_Page500_ViewModel_Search)->Unit(benchmark::kMillisecond);

void BM_Page500_ViewModel_LastPage(benchmark::State& state) { run_view_model(state, {{"status", "all"}, {"page", "20"}}); }
BENCHMARK(BM_Page500_ViewModel_LastPage)->Unit(benchmark::kMillisecond);

void BM_Page500_ViewModel_Activity(benchmark::State& state) { run_view_model(state, {{"view", "activity"}}); }
BENCHMARK(BM_Page500_ViewModel_Activity)->Unit(benchmark::kMillisecond);

// The devhost's part: render the default view's view model to HTML (bytes on the wire counted).
void BM_Page500_RenderHtml_Default(benchmark::State& state) {
  Env& e = env();
  const std::string vm = e.page.view_model(page_request());
  const auto c = chrome();
  std::string html;
  for (auto _ : state) {
    html = mdp::devhost::render::render_settings_page(vm, c);
    benchmark::DoNotOptimize(html.data());
  }
  count_page(state, html);
}
BENCHMARK(BM_Page500_RenderHtml_Default)->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  if (g_env) {
    g_env->page = {};
    g_env->ctx.reset();
    g_env->host.reset();
    std::filesystem::remove_all(g_env->dir);
  }
  return 0;
}
