// The plugin's tunables, in one place with their defaults and ranges. Read once in on_load from
// the host's Settings service (the devhost: --plugin-setting api-access.<name>=<value>); a value
// outside its range refuses the load with a message naming the setting.
//
//   offline_grace_seconds  30    0..86400  How long keys already in this process's cache keep
//                                          working while it cannot reach the database (so cannot
//                                          hear of revocations). Then API requests answer 503.
//   change_poll_ms         1000  50..60000 The change feed's fallback read interval: a lost
//                                          PostgreSQL notification is made good within it.
//                                          Must be shorter than the offline grace.
//   disclosure_retention_days  2192  1..36500  How long the record of which patients each
//                                          key's requests read or changed is kept (default six
//                                          years, leap days included: US clinics keep
//                                          disclosure accountings six years). Older days are
//                                          deleted by the background thread.
#pragma once

#include <chrono>
#include <string>

#include "mdp/host/services.hpp"

namespace mdp::api_access {

struct PluginConfig {
  std::chrono::seconds offline_grace{30};
  std::chrono::milliseconds change_poll{1000};
  int disclosure_retention_days = 2192;
};

// Throws std::invalid_argument naming the setting and its range.
PluginConfig read_config(const host::Settings& settings);

}  // namespace mdp::api_access
