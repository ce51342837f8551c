// One api-access plugin for the plugin fuzzers, loaded once per fuzzing process as the tests load
// it (tests/plugin/plugin_test_host: the devhost's real SociDatabase on a fresh SQLite file in
// the temp folder, the plugin's migrations, a manual clock, in-memory directory and plans),
// with one stored key so that the hook's cache and database paths both run.
#pragma once

#include <memory>
#include <string>

#include "plugin_test_host.hpp"

namespace mdp::fuzz {

struct PluginHarness {
  std::unique_ptr<api_access::test::TestHost> host;
  std::shared_ptr<api_access::ApiAccessPlugin> plugin;
  api_access::test::TestRegistrar registrar;
  std::string stored_key;  // a valid key of clinic 1 (lives only in this process)
};

PluginHarness& plugin_harness();

}  // namespace mdp::fuzz
