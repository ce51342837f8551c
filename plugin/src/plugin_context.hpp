// Everything the plugin's parts share, built in ApiAccessPlugin::on_load and held by
// shared_ptr by the plugin, the request hook and every route/page handler (so none can outlive
// it, whatever order the host drops them in).
//
// For the pages (plugin/src/pages/): read through `keys` (KeyStore::query/get/events),
// `usage` (UsageStore::daily_for_keys, after `flush_usage()` for exact figures), `now()`, and
// `api_access_enabled(clinic)`; mutate only through the admin routes (routes/admin_routes.hpp),
// which keep the request hook's cache fresh.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "auth/change_feed.hpp"
#include "auth/entitlements.hpp"
#include "auth/failure_throttle.hpp"
#include "auth/miss_cache.hpp"
#include "auth/rate_exchange.hpp"
#include "auth/hasher_pool.hpp"
#include "auth/key_cache.hpp"
#include "auth/key_loader.hpp"
#include "disclosure/disclosure_recorder.hpp"
#include "disclosure/disclosure_store.hpp"
#include "keys/key_store.hpp"
#include "mdp/host/services.hpp"
#include "metrics/plugin_metrics.hpp"
#include "notify/notifier.hpp"
#include "plugin_config.hpp"
#include "rotation/auto_rotation_store.hpp"
#include "rotation/rotation_finisher.hpp"
#include "usage/usage_flusher.hpp"
#include "usage/usage_store.hpp"
#include "util/clinic_zones.hpp"
#include "util/db.hpp"

namespace mdp::api_access {

struct PluginContext {
  explicit PluginContext(host::HostServices& h, const PluginConfig& c = {})
      : host(h),
        config(c),
        scope_names(names_of(h.api_scopes())),
        metrics(h.metrics()),
        keys(h.database()),
        usage(h.database()),
        zones(h.directory(), h.log()),
        loader(h.database(), cache, plans),
        flusher(cache, usage, zones, h.log(), &metrics, &scope_names),
        feed(h.database(), cache, loader, h.log(), {c.change_poll, c.offline_grace}, &metrics),
        notifier(h.database(), h.notifications(), h.log(), usage, zones),
        disclosure_store(h.database()),
        disclosures(disclosure_store, h.log()),
        auto_rotations(h.database()),
        rotation_finisher(auto_rotations, h.log()),
        rates(h.database(), cache, h.clock(), h.log(), c.rate_limit_sync) {}

  host::HostServices& host;
  const PluginConfig config;
  // The host's public API scopes, fixed at load: a scope's index here is its index in every
  // key's ScopeTally (usage/scope_usage.hpp).
  const std::vector<std::string> scope_names;
  PluginMetrics metrics;  // series resolved once, before the parts that report to them
  KeyStore keys;
  UsageStore usage;
  KeyCache cache;
  MissCache misses;          // well-formed keys the database did not hold
  FailureThrottle throttle;  // invalid keys per client address
  FailureThrottle leak_reports;  // leak reports per client address (routes/leak_reports.hpp)
  Entitlements plans;
  HasherPool hashers;
  ClinicZones zones;  // each clinic's time zone, for its days and the times it is shown
  KeyLoader loader;
  UsageFlusher flusher;
  ChangeFeed feed;  // started by the plugin after on_load's registrations
  Notifier notifier;  // messages to the clinic's admins, checked by the background thread
  DisclosureStore disclosure_store;
  DisclosureRecorder disclosures;  // which records each key touched, flushed like usage
  AutoRotationStore auto_rotations;   // rotations that revoke the old key once it is unused
  RotationFinisher rotation_finisher;  // checked by the background thread
  RateExchange rates;  // rate-limit counts between processes (PostgreSQL); started with the feed

  // Hot path: the index of `scope` in scope_names (scope_names.size() if the host did not
  // declare it). A few short comparisons: hosts declare a handful of scopes.
  std::size_t scope_index(std::string_view scope) const noexcept {
    std::size_t i = 0;
    while (i < scope_names.size() && scope_names[i] != scope) ++i;
    return i;
  }
  static std::vector<std::string> names_of(const std::vector<host::ApiScope>& scopes) {
    std::vector<std::string> out;
    for (const auto& s : scopes) out.push_back(s.id);
    return out;
  }

  Micros now() const noexcept { return to_micros(host.clock().now()); }
  // Stored timestamps are whole seconds, so JSON shows "2026-11-26T09:30:00Z" (no fraction)
  // and a time read back equals the time shown.
  Micros now_seconds() const noexcept { return floor_seconds(now()); }
  // Asks the host (uncached). Throws DatabaseUnavailable when the host could not tell.
  bool api_access_enabled(host::ClinicId clinic) const;
  // Writes pending usage now; false if the write failed (figures then lag by the pending part).
  bool flush_usage() noexcept { return flusher.flush(); }
  // The cache's view of a key the routes just revoked or rotated (its rules did not change).
  void key_changed(const KeyRecord& k) noexcept {
    loader.apply(k.id, k.revoked_at.has_value(), k.expires_at, nullptr);
  }
  // After an edit of a key's rules: reads the key's state as stored and applies it, so this
  // process enforces the edit before the route answers. Throws like KeyStore.
  void key_rules_changed(KeyId id) {
    if (auto st = keys.state(id))
      loader.apply(id, st->revoked_at.has_value(), st->expires_at, &st->rules);
  }
};

}  // namespace mdp::api_access
