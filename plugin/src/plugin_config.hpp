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
//   rate_limit_tier        600/60  N/S     The rate limit of a key without its own, when the
//                                          clinic's tier includes API access (Enterprise):
//                                          N requests (1..1000000) per S seconds (1..86400).
//   rate_limit_addon       120/60  N/S     The same when the api_access addon grants it.
//   rate_limit_sync_ms     1000  50..60000 How often host processes sharing a PostgreSQL
//                                          database exchange their rate-limit counts
//                                          (auth/rate_exchange.hpp: the limit holds across
//                                          processes up to what the others admit in about two
//                                          intervals).
#pragma once

#include <chrono>
#include <string>

#include "keys/key_attributes.hpp"
#include "mdp/host/services.hpp"

namespace mdp::api_access {

struct PluginConfig {
  std::chrono::seconds offline_grace{30};
  std::chrono::milliseconds change_poll{1000};
  int disclosure_retention_days = 2192;
  RateLimit tier_rate_limit{600, 60};
  RateLimit addon_rate_limit{120, 60};
  std::chrono::milliseconds rate_limit_sync{1000};
};

// Throws std::invalid_argument naming the setting and its range.
PluginConfig read_config(const host::Settings& settings);

}  // namespace mdp::api_access
