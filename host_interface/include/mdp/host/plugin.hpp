// The plugin object, what it registers with the host, and the factory it exports.
//
// Lifecycle, all on the host's main thread unless noted:
//   load:   the host validates manifest.json, loads the library (Boost.DLL, rtld_now), checks
//           mdp_plugin_abi(), applies the plugin's migrations, calls the entry symbol named in
//           the manifest to create the Plugin, then calls on_load(). A plugin that returns
//           LoadResult{false, why} is refused: the host logs `why` and unloads it.
//   serve:  routes, settings pages and the API hook are called from server threads.
//           on_subscription_changed() may arrive from any thread.
//   stop:   the host stops accepting requests, waits for in-flight ones, calls on_stop(), then
//           drops everything the plugin registered, then the Plugin, and unloads the library
//           only after the last object from it is gone.
// No exception may cross this boundary in either direction: every virtual here is noexcept.
// Every declaration here exists since ABI 1.0 unless it says otherwise. The step-by-step guide
// for host implementers is host_interface/HOSTING.md.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "mdp/host/abi.hpp"
#include "mdp/host/api_hook.hpp"
#include "mdp/host/http.hpp"
#include "mdp/host/pages.hpp"
#include "mdp/host/services.hpp"

namespace mdp::host {

// A feature and the plans that include it. The host shows it on the Billing & Subscription
// Features card and answers Subscriptions::feature() for it.
struct FeatureSpec {
  std::string id;                  // e.g. "api_access"; must match manifest.json "features"
  std::string label;               // e.g. "API access"
  std::vector<std::string> tiers;  // tiers that include it, e.g. {"enterprise"}
  std::string addon;               // addon that unlocks it on other tiers; empty for none
};

// Implemented by the host; valid only during Plugin::on_load, on the host's main thread (the
// plugin must not keep the reference). Each call hands its argument over by value: from then on
// the host owns the spec, and keeps every std::function in it (and the hook) alive only while it
// also keeps the plugin's library loaded. Registration errors (a duplicate route, a feature the
// manifest does not declare, a permission it does not list) are collected by the host, which then
// calls on_stop and refuses the plugin with one line naming them all.
class BOOST_SYMBOL_VISIBLE Registrar {
 public:
  virtual void add_feature(FeatureSpec feature) noexcept = 0;
  virtual void add_route(RouteSpec route) noexcept = 0;
  virtual void add_settings_page(PageSpec page) noexcept = 0;
  // At most one per plugin; a host with several hook plugins calls them in load order.
  virtual void set_api_hook(std::shared_ptr<ApiHook> hook) noexcept = 0;

 protected:
  ~Registrar() = default;
};

// on_subscription_changed's "every clinic" value (no clinic has id 0).
inline constexpr ClinicId kEveryClinic = 0;

struct LoadResult {
  bool ok = true;
  std::string message;  // why not, when !ok: one line a host admin can act on
};

class BOOST_SYMBOL_VISIBLE Plugin {
 public:
  virtual ~Plugin() = default;
  // Called once per load, on the host's main thread, after the migrations were applied and
  // before any request. `host` and everything it returns stay valid until on_stop() returns;
  // `registrar` only during this call. Returning LoadResult{false, why} refuses the load: the
  // host logs `why` (one line), does NOT call on_stop, drops what was registered and unloads.
  virtual LoadResult on_load(HostServices& host, Registrar& registrar) noexcept = 0;
  // A clinic's tier or addons changed. The host calls this in EVERY host process that shares
  // the database, not only the one that made the change: the devhost writes each change to a
  // table in the same transaction, wakes every process with PostgreSQL NOTIFY (within
  // milliseconds) and polls the table from its last position as a fallback (within about a
  // second), so a lost notification or a reconnected listener misses nothing.
  // clinic == kEveryClinic: the host lost track (its listener reconnected, or it cannot tell
  // what changed): every cached plan answer must be dropped.
  // Any thread, possibly concurrently with requests and with itself; as often as plans change.
  // The next API request after this call must see the new plan. Since 1.0; kEveryClinic and the
  // delivery to every host process since 2.0.
  virtual void on_subscription_changed(ClinicId clinic) noexcept = 0;
  // Once, on the host's main thread, after a successful on_load (also when the host then refuses
  // the registrations): no request is in flight and none will come. Persist whatever is
  // buffered, stop the plugin's threads, give back every pooled session. The host then destroys
  // the registered objects, the Plugin, and unloads the library.
  virtual void on_stop() noexcept = 0;
};

// The entry symbol's type: the manifest's "entry_symbol" names a function of this type,
// exported with BOOST_DLL_ALIAS. Called once per load on the host's main thread, after the ABI
// checks and the migrations. It returns nullptr if the plugin cannot be created. The returned
// shared_ptr does NOT keep the library loaded: the host keeps the boost::dll::shared_library
// alive until this object and everything registered from it are destroyed.
using PluginFactory = std::shared_ptr<Plugin>();  // must not throw

}  // namespace mdp::host
