// The built plugin module really unloads after use: nothing in it (thread_local with a
// destructor, STB_GNU_UNIQUE statics, a running thread) keeps glibc from unmapping it. The
// hasher pool's design depends on this (auth/hasher_pool.hpp).
#include <dlfcn.h>

#include <fstream>
#include <thread>

#include "plugin_test_host.hpp"

namespace mdp::api_access::test {
namespace {

bool module_mapped() {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line))
    if (line.find("libmdp_api_access.so") != std::string::npos) return true;
  return false;
}

class UnloadTest : public PluginTest {};

TEST_P(UnloadTest, ModuleUnmapsAfterHookCallsFromManyThreads) {
  ASSERT_FALSE(module_mapped());
  void* handle = dlopen(MDP_PLUGIN_MODULE, RTLD_NOW | RTLD_LOCAL);
  ASSERT_NE(handle, nullptr) << dlerror();
  {
    // BOOST_DLL_ALIAS exports a pointer to the factory under the alias name.
    auto* alias = reinterpret_cast<host::PluginFactory**>(dlsym(handle, "mdp_create_plugin"));
    ASSERT_NE(alias, nullptr);
    std::shared_ptr<host::Plugin> plugin = (**alias)();
    ASSERT_TRUE(plugin);
    TestRegistrar reg;
    ASSERT_TRUE(plugin->on_load(*host_, reg).ok);
    host::RouteRequest req;
    req.method = "POST";
    req.body = R"({"label":"unload"})";
    req.user = admin_a();
    std::string secret;
    for (auto& r : reg.routes)
      if (r.method == "POST" && r.pattern == "keys") {
        auto resp = r.handler(req);
        ASSERT_EQ(resp.status, 201);
        secret = std::string(boost::json::parse(resp.body).at("secret").as_string());
      }
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
      threads.emplace_back([&] {
        for (int i = 0; i < 100; ++i) {
          FakeApiRequest r;
          r.bearer(secret);
          host::ApiDecision d;
          reg.hook->on_api_request(r, d);
          reg.hook->on_api_response(d.token, 200);
        }
      });
    for (auto& t : threads) t.join();
    plugin->on_stop();
    reg.routes.clear();
    reg.pages.clear();
    reg.hook.reset();
    plugin.reset();
  }
  ASSERT_EQ(dlclose(handle), 0);
  EXPECT_FALSE(module_mapped()) << "libmdp_api_access.so is still mapped after dlclose";
}

INSTANTIATE_TEST_SUITE_P(Dialects, UnloadTest, ::testing::Values(host::Dialect::sqlite), param_name);

}  // namespace
}  // namespace mdp::api_access::test
