// The plugin object the host creates: wires the key store, admin routes, settings page and
// request hook to the host's services in on_load, runs the background thread (usage and
// disclosure flush, retention, expiry sweep, notifications to admins) and the change feed's thread, and flushes usage in
// on_stop.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>

#include "mdp/host/plugin.hpp"

namespace mdp::api_access {

inline constexpr const char* kFeatureId = "api_access";
inline constexpr const char* kManagePermission = "api_keys.manage";

struct PluginContext;
class RequestHook;

class ApiAccessPlugin final : public host::Plugin {
 public:
  ApiAccessPlugin();
  ~ApiAccessPlugin() override;

  host::LoadResult on_load(host::HostServices& host, host::Registrar& registrar) noexcept override;
  void on_subscription_changed(host::ClinicId clinic) noexcept override;
  void on_stop() noexcept override;

  // For the pages (plugin/src/pages/), tests and benchmarks: null before on_load.
  std::shared_ptr<PluginContext> context() const noexcept { return ctx_; }
  std::shared_ptr<RequestHook> hook() const noexcept { return hook_; }

  // One round of the background work (also called by tests to avoid waiting a second):
  // flush usage, record expiries, send due notifications, trim old bookkeeping. (The change
  // feed has its own thread:
  // auth/change_feed.hpp.)
  void background_tick() noexcept;

 private:
  void run_background() noexcept;
  void trim_disclosures(PluginContext& ctx) noexcept;
  void stop_background() noexcept;
  void start_scope_counting() noexcept;

  std::shared_ptr<PluginContext> ctx_;
  std::shared_ptr<RequestHook> hook_;

  std::thread worker_;
  std::mutex worker_mutex_;
  std::condition_variable worker_cv_;
  bool stopping_ = false;
  std::mutex tick_mutex_;  // background_tick from the thread and from tests
  std::uint64_t ticks_ = 0;
  std::atomic<bool> scope_counting_started_{false};
  std::int32_t trimmed_day_ = 0;  // the host-clock day of the last retention trim (0: none yet)
};

}  // namespace mdp::api_access
