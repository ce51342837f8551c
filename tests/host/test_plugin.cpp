// A tiny plugin for the loader tests, compiled several times with different macros and flags:
//   TEST_ABI_MAJOR=99        reports another ABI major from mdp_plugin_abi (must be refused);
//   TEST_NO_BUILD_INFO       exports no mdp_plugin_build, like a plugin built against older
//                            headers (refused);
//   TEST_BAD_REGISTRATIONS   registers an undeclared feature and a duplicate route (refused);
//   none of them             a well-behaved plugin with one feature, two routes and a hook;
//                            GET changes lists every on_subscription_changed call it received
//                            ({"changes":[clinic, ...]}, 0 for "every clinic").
// The toolchain refusals are the same source built with other flags (tests/host/CMakeLists.txt):
// -D_GLIBCXX_USE_CXX11_ABI=0 (old std::string), another SOCI's version.h, another compiler.
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <boost/dll/alias.hpp>

#include "mdp/host/plugin.hpp"

#ifndef TEST_ABI_MAJOR
#define TEST_ABI_MAJOR ::mdp::host::kAbiMajor
#endif

extern "C" BOOST_SYMBOL_EXPORT std::uint32_t mdp_plugin_abi() noexcept {
  return ::mdp::host::pack_abi(TEST_ABI_MAJOR, 0);
}

#ifndef TEST_NO_BUILD_INFO
extern "C" BOOST_SYMBOL_EXPORT const mdp_plugin_build_info* mdp_plugin_build() noexcept {
  static constexpr mdp_plugin_build_info kBuild = [] {
    mdp_plugin_build_info b = ::mdp::host::this_build();
    b.abi = ::mdp::host::pack_abi(TEST_ABI_MAJOR, 0);
    return b;
  }();
  return &kBuild;
}
#endif

namespace {

using namespace mdp::host;

class EchoHook final : public ApiHook {
 public:
  void on_api_request(const ApiRequest&, ApiDecision& d) noexcept override {
    d.allowed = false;
    d.status = 401;
    d.body = R"({"error":{"code":"test_hook","message":"refused by the test plugin"}})";
  }
  void on_api_response(std::uint64_t, int) noexcept override {}
};

class TestPlugin final : public Plugin {
 public:
  LoadResult on_load(HostServices&, Registrar& r) noexcept override {
    try {
#ifdef TEST_BAD_REGISTRATIONS
      r.add_feature({"undeclared_feature", "Nope", {"enterprise"}, ""});
      r.add_route({"GET", "things", "", "list", [](const RouteRequest&) { return Response{}; }});
      r.add_route({"GET", "things", "", "again", [](const RouteRequest&) { return Response{}; }});
#else
      r.add_feature({"test_feature", "Test feature", {"enterprise"}, "test_addon"});
      r.add_route({"GET", "echo/{id}", "", "echo", [](const RouteRequest& req) {
                     Response out;
                     out.body = std::string(R"({"id":")") + *req.param("id") + "\"}";
                     return out;
                   }});
      r.add_route({"GET", "changes", "", "changes", [this](const RouteRequest&) {
                     Response out;
                     std::lock_guard lock(mutex_);
                     out.body = R"({"changes":[)";
                     for (std::size_t i = 0; i < changes_.size(); ++i)
                       out.body += (i ? "," : "") + std::to_string(changes_[i]);
                     out.body += "]}";
                     return out;
                   }});
      r.set_api_hook(std::make_shared<EchoHook>());
#endif
      return {};
    } catch (...) {
      return {false, "out of memory"};
    }
  }
  void on_subscription_changed(ClinicId clinic) noexcept override {
    try {
      std::lock_guard lock(mutex_);
      changes_.push_back(clinic);
    } catch (...) {
    }
  }
  void on_stop() noexcept override {}

 private:
  std::mutex mutex_;
  std::vector<ClinicId> changes_;  // every on_subscription_changed call, in order
};

std::shared_ptr<Plugin> create() {
  try {
    return std::make_shared<TestPlugin>();
  } catch (...) {
    return nullptr;
  }
}

}  // namespace

BOOST_DLL_ALIAS(create, mdp_create_plugin)
