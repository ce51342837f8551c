// The plugin object the host creates: wires the key store, admin routes, settings page and
// request hook to the host's services in on_load, and flushes usage in on_stop.
#pragma once

#include "mdp/host/plugin.hpp"

namespace mdp::api_access {

inline constexpr const char* kFeatureId = "api_access";
inline constexpr const char* kManagePermission = "api_keys.manage";

class ApiAccessPlugin final : public host::Plugin {
 public:
  host::LoadResult on_load(host::HostServices& host, host::Registrar& registrar) noexcept override;
  void on_subscription_changed(host::ClinicId clinic) noexcept override;
  void on_stop() noexcept override;

 private:
  host::HostServices* host_ = nullptr;
};

}  // namespace mdp::api_access
