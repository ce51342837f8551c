// The two symbols the host resolves: the ABI version and the factory named in manifest.json.
#include <memory>

#include <boost/dll/alias.hpp>

#include "api_access_plugin.hpp"
#include "mdp/host/abi.hpp"

MDP_PLUGIN_EXPORT_ABI()

namespace mdp::api_access {
std::shared_ptr<host::Plugin> create_plugin() {
  try {
    return std::make_shared<ApiAccessPlugin>();
  } catch (...) {
    return nullptr;  // the host reports "factory returned nothing"; no exception crosses
  }
}
}  // namespace mdp::api_access

BOOST_DLL_ALIAS(mdp::api_access::create_plugin, mdp_create_plugin)
