// The devhost's HTML renderer: settings pages from plugin view models (host_interface/VIEW_MODEL.md),
// plus the few host pages that share their chrome (settings index, login, billing, errors).
//
// Every function here is pure: same inputs, same bytes; no I/O, no globals, safe on any thread.
// None throws (std::bad_alloc aside): a view model the renderer cannot read becomes an error notice
// inside the usual chrome, and the reason goes to `*error` for the host's log.
// Every string from a view model or the chrome is HTML-escaped here, on the server; the page's
// small script only ever sets textContent, so a label such as <script>alert(1)</script> is text.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <boost/json/value.hpp>

namespace mdp::devhost::render {

// One link in the Settings navigation. Entries are grouped under their `section` heading, groups
// in order of first appearance (e.g. "Account" → "Billing & Subscription", "Integrations" →
// "API Keys"). The host lists only pages the viewer's role may open.
struct NavEntry {
  std::string section;
  std::string title;
  std::string href;  // e.g. "/settings/integrations/api-keys"
};

// What surrounds every settings page: the header with the avatar menu and the settings navigation.
struct PageChrome {
  std::string title;         // the document <title>, e.g. "API Keys"
  std::vector<NavEntry> nav;
  std::string user_name;     // shown in the avatar menu; empty for a logged-out page
  std::string clinic_name;
  std::string csrf_token;    // the session's token; the page's script sends it as X-CSRF-Token
  std::string current_path;  // marks the current nav entry with aria-current="page"
  // Prefix of action routes: "/plugins/<plugin-id>/" for a plugin page, "/" for a host page.
  std::string action_base = "/";
  // The bell in the header links to /settings/notifications and shows this many unread
  // notifications; negative: no bell (a logged-out page).
  long long unread_notifications = -1;
};

// A settings page from a view model. An unreadable view model renders the chrome and one error
// notice; then `*error` (if given) says why, e.g. `children[1].rows[0].cells.status: unknown type "x"`.
std::string render_settings_page(const boost::json::value& view_model, const PageChrome& chrome,
                                 std::string* error = nullptr);
// Same, from the JSON text a PageSpec::view_model returns (parse errors become the error notice).
std::string render_settings_page(std::string_view view_model_json, const PageChrome& chrome,
                                 std::string* error = nullptr);

// Checks a view model without rendering it; returns the reason it is unreadable, or "" if fine.
std::string validate_view_model(const boost::json::value& view_model);

// /settings: the navigation and a short index of the pages in it.
std::string render_settings_index(const PageChrome& chrome);

// A host message page in the chrome, e.g. 403 "You don't have permission to open this page".
std::string render_message_page(const PageChrome& chrome, std::string_view heading,
                                std::string_view text);

// GET /login: an email + password form that POSTs JSON to /login, then goes to `next_path`
// (a host path starting with '/'; anything else goes to /settings).
std::string render_login_page(std::string_view next_path = "/settings");

// The Billing & Subscription page's Features card, as a view model, so it renders exactly like a
// plugin page. Render it with chrome.action_base = "/" (buttons call /billing/addons/<addon>).
struct BillingFeature {
  std::string id;       // e.g. "api_access"
  std::string label;    // e.g. "API access"
  bool enabled = false;
  std::string source;   // "tier", "addon" or "" when disabled
  std::string addon;    // the addon that unlocks it on other tiers; "" for none
  std::string addon_price;  // what the addon costs, in words ("$49 per month"); "" when unknown
};
boost::json::value billing_view_model(std::string_view clinic_name, std::string_view tier,
                                      const std::vector<BillingFeature>& features,
                                      bool can_manage_billing);

// /settings/notifications: the viewer's notifications, newest first, as a view model (rendered
// with chrome.action_base = "/": "Mark all as read" posts to /notifications/read).
struct NotificationItem {
  long long id = 0;
  std::string severity;  // "info" | "warning" | "danger"
  std::string subject, body, link;
  std::string at;        // RFC 3339 UTC
  bool read = false;
};
boost::json::value notifications_view_model(const std::vector<NotificationItem>& items,
                                            std::size_t unread);

// Escapes & < > " ' for text and attribute values. Exposed for the host's own small pages.
std::string escape_html(std::string_view text);

}  // namespace mdp::devhost::render
