// Settings → Integrations → API Keys: the view model (host_interface/VIEW_MODEL.md) the host
// renders.
//
// Two layers, so the page's rules are tested without a database or a host:
//   build_api_keys_view_model(): pure; everything it shows comes from ApiKeysPageInput, "now"
//     included, so a test clock gives a stable page.
//   make_api_keys_page(): the PageSpec the plugin registers; it loads the input from the key
//     store, the usage store and the host's services, per request.
// The view model never holds a secret: keys are shown by their masked preview only.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "keys/key_query.hpp"
#include "keys/key_record.hpp"
#include "mdp/host/pages.hpp"
#include "mdp/host/services.hpp"
#include "rotation/auto_rotation_store.hpp"
#include "usage/least_privilege.hpp"
#include "usage/spike.hpp"
#include "usage/usage_store.hpp"
#include "util/clinic_time.hpp"

namespace mdp::api_access {

struct PluginContext;

// The page's rules of thumb, from the admin guide.
inline constexpr int kUsageDays = 30;            // the per-key requests-per-day chart
// The spike rule (kSpike*, detect_spike) is usage/spike.hpp's, shared with the notifications.
inline constexpr std::int64_t kDefaultRotateGraceSeconds = 7 * 86'400;

inline constexpr std::size_t kPageSize = 25;        // keys per page
inline constexpr std::size_t kEventsPageSize = 50;  // events per page of the Activity view

enum class PageView { keys, activity };

struct ApiKeysPageInput {
  Micros now = 0;
  ClinicZone zone;  // the clinic's time zone: its days (usage, dates) and every time shown
  bool api_access_enabled = false;
  PageView view = PageView::keys;

  // Keys view: one page of the keys that match `query` (newest first by default), `total` of
  // them in all (0: as many as `keys` holds); `clinic_has_keys` tells "no keys yet" from "no key
  // matches this search".
  KeyQuery query = default_page_query();
  std::size_t total = 0;
  bool clinic_has_keys = false;
  std::vector<KeyRecord> keys;
  std::map<KeyId, std::string> replaced_by;  // preview of the key that replaced it (KeyPage)
  std::map<KeyId, WaitingRotation> auto_rotations;  // by old key: rotations that finish themselves
  // Least privilege: each key's per-scope usage, and since when scopes are counted.
  std::map<KeyId, std::vector<ScopeUse>> scope_uses;
  std::optional<Micros> scope_counting_since;
  // Per key, the last kUsageDays days of the clinic ending today, oldest first; a key without an entry
  // had no usage. Shorter or misaligned vectors are tolerated (missing days count as zero).
  std::map<KeyId, std::vector<DayUsage>> usage;
  std::vector<host::ApiScope> scopes;  // the host's public API scopes, for the Generate form

  // Activity view: one page of the audit trail, optionally of one key.
  std::optional<KeyId> activity_key;
  std::size_t events_page = 1;
  std::size_t events_total = 0;
  std::vector<KeyEvent> events;
  std::vector<KeyRecord> key_choices;  // every key, for the "which key" filter

  static KeyQuery default_page_query() {
    KeyQuery q;
    q.filter = KeyFilter::current;  // revoked keys only on request
    q.per_page = kPageSize;
    return q;
  }
};

boost::json::object build_api_keys_view_model(const ApiKeysPageInput& input);

// "just now", "5 minutes ago", "3 days ago", "in 6 days", ... relative to `now`.
std::string relative_time(Micros t, Micros now);

// The page's query parameters (q, status, sort, page; view=activity with key and page) into
// `in`, leniently: a parameter that cannot be read keeps its default.
void read_page_query(const std::vector<host::NameValue>& params, ApiKeysPageInput& in);

// The PageSpec to register in on_load (section "Integrations", title "API Keys", path
// "integrations/api-keys", permission "api_keys.manage"). Its view_model holds `ctx`, so the
// stores it reads live as long as the page. It flushes pending usage first, so a request made a
// moment ago is already counted. If loading fails (e.g. the database is unavailable) the page
// shows an error notice instead; it never throws.
host::PageSpec make_api_keys_page(std::shared_ptr<PluginContext> ctx);

}  // namespace mdp::api_access
