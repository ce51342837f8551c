#include "api_access_plugin.hpp"

namespace mdp::api_access {

host::LoadResult ApiAccessPlugin::on_load(host::HostServices& host,
                                          host::Registrar& registrar) noexcept {
  try {
    host_ = &host;
    registrar.add_feature({kFeatureId, "API access", {"enterprise"}, "api_access"});
    return {};
  } catch (const std::exception& e) {
    return {false, e.what()};
  }
}

void ApiAccessPlugin::on_subscription_changed(host::ClinicId) noexcept {}

void ApiAccessPlugin::on_stop() noexcept { host_ = nullptr; }

}  // namespace mdp::api_access
