// Loads a plugin bundle (manifest.json + library + sql/) and keeps it alive. Owned by the devhost.
//
// Order (host_interface plugin.hpp): validate the manifest (nothing loaded yet), load the
// library with Boost.DLL (rtld_now, full path), check mdp_plugin_abi() and mdp_plugin_build()
// (interface version, string ABI, compiler, SOCI) before any C++ type
// crosses, apply the migrations for the database's dialect, call the factory named by
// entry_symbol, call on_load with a Registrar that validates what the plugin registers.
//
// Lifetime: the library must stay mapped while any object whose code lives in it exists: the
// Plugin, the ApiHook, every std::function handler. LoadedPlugin therefore owns the
// shared_library through a shared LibraryHandle, and every object handed out (plugin(), hook(),
// the handlers in routes()/pages()) holds that handle too and is destroyed BEFORE it. The
// library is unmapped when the last of them goes.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "loader/manifest.hpp"
#include "mdp/host/plugin.hpp"
#include "services/host_services.hpp"

namespace mdp::devhost {

// Thrown for anything that refuses a plugin after the manifest was read: one line naming the
// manifest or library file and the reason.
class LoadError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct LibraryHandle;  // owns the boost::dll::shared_library (plugin_loader.cpp)

class LoadedPlugin {
 public:
  ~LoadedPlugin();
  LoadedPlugin(const LoadedPlugin&) = delete;
  LoadedPlugin& operator=(const LoadedPlugin&) = delete;

  const Manifest& manifest() const noexcept { return manifest_; }
  const std::string& id() const noexcept { return manifest_.id; }
  const std::filesystem::path& library_path() const noexcept { return library_path_; }
  // The interface minor the plugin was built for (mdp_plugin_abi()): virtuals added after it
  // are not in its tables, so the host calls them only when this is new enough.
  std::uint32_t abi_minor() const noexcept { return abi_minor_; }

  // Each of these keeps the library loaded for as long as it (or a copy) lives.
  const std::shared_ptr<host::Plugin>& plugin() const noexcept { return plugin_; }
  const std::shared_ptr<host::ApiHook>& hook() const noexcept { return hook_; }
  const std::vector<host::RouteSpec>& routes() const noexcept { return routes_; }
  const std::vector<host::PageSpec>& pages() const noexcept { return pages_; }
  const std::vector<host::FeatureSpec>& features() const noexcept { return features_; }

  // Calls on_stop() once (later calls do nothing). The host calls it after the last request.
  void stop() noexcept;

 private:
  friend std::shared_ptr<LoadedPlugin> load_plugin(const std::filesystem::path&, SharedServices&);
  LoadedPlugin() = default;

  Manifest manifest_;
  std::filesystem::path library_path_;
  // Declaration order is destruction order reversed: services outlive the plugin, and the
  // registrations and the plugin go before library_ (released last).
  std::shared_ptr<LibraryHandle> library_;
  std::unique_ptr<PluginServices> services_;
  std::shared_ptr<host::Plugin> plugin_;
  std::shared_ptr<host::ApiHook> hook_;
  std::vector<host::FeatureSpec> features_;
  std::vector<host::RouteSpec> routes_;
  std::vector<host::PageSpec> pages_;
  bool stopped_ = false;
  std::uint32_t abi_minor_ = 0;
};

// Loads one bundle. Throws ManifestError, LoadError or host::sdk::MigrationError (all one
// line); nothing of the plugin stays loaded after a throw. Registers its features and
// permissions with `shared` on success.
std::shared_ptr<LoadedPlugin> load_plugin(const std::filesystem::path& manifest_file,
                                          SharedServices& shared);

// The manifests `--plugins DIR` loads: DIR/*/manifest.json, sorted by folder name.
std::vector<std::filesystem::path> find_manifests(const std::filesystem::path& plugins_dir);

}  // namespace mdp::devhost
