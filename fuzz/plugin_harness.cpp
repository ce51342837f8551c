#include "plugin_harness.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>

namespace mdp::fuzz {

namespace {
std::filesystem::path database_path() {
  return std::filesystem::temp_directory_path() / ("mdp-fuzz-" + std::to_string(::getpid()) + ".db");
}
void remove_database() {
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::error_code ec;
    std::filesystem::remove(database_path().string() + suffix, ec);
  }
}
}  // namespace

PluginHarness& plugin_harness() {
  static PluginHarness* h = [] {
    auto* p = new PluginHarness;  // never destroyed: libFuzzer exits without unwinding
    p->host = std::make_unique<api_access::test::TestHost>(host::Dialect::sqlite, "", database_path(), true);
    std::atexit(remove_database);  // runs last: registered first
    p->host->subs.set(api_access::test::kClinicA, true);
    p->plugin = std::make_shared<api_access::ApiAccessPlugin>();
    const auto r = p->plugin->on_load(*p->host, p->registrar);
    if (!r.ok || !p->registrar.hook) {
      std::fprintf(stderr, "plugin did not load: %s\n", r.message.c_str());
      std::abort();
    }
    // At exit, stop the plugin's threads (change feed, usage flusher) before anything they use
    // is torn down: a background thread still querying during exit is a use-after-free.
    std::atexit([] { plugin_harness().plugin->on_stop(); });
    for (auto& route : p->registrar.routes) {
      if (route.method != "POST" || route.pattern != "keys") continue;
      host::RouteRequest req;
      req.method = "POST";
      req.path = "keys";
      req.body = R"({"label":"fuzz","scopes":["read"]})";
      req.user = api_access::test::admin_a();
      const host::Response out = route.handler(req);
      auto v = boost::json::parse(out.body);
      p->stored_key = std::string(v.at("secret").as_string());
    }
    return p;
  }();
  return *h;
}

}  // namespace mdp::fuzz
