// Settings pages a plugin registers. The host renders them; the plugin never emits HTML.
//
// The plugin returns a view model: a JSON document in the vocabulary of
// host_interface/VIEW_MODEL.md (page, section, table, badge, notice, empty state, button,
// form, modal, bar chart). The host escapes every string it renders, lays the page out in its
// own style, places it in its Settings navigation under `section`, and wires buttons and forms
// to the plugin's routes with the session's CSRF token.
// Threads: view_model runs on a server thread, concurrently. It must not throw.
#pragma once

#include <functional>
#include <string>

#include "mdp/host/http.hpp"

namespace mdp::host {

struct PageSpec {
  std::string id;          // unique within the plugin, e.g. "api-keys"
  std::string section;     // Settings navigation group, e.g. "Integrations"
  std::string title;       // e.g. "API Keys"
  std::string path;        // served at /settings/<path>, e.g. "integrations/api-keys"
  std::string permission;  // needed to see it in navigation and to open it (else 403)
  // Returns the view model as JSON text. `request.user` is the viewer, `request.path` the page's
  // path and `request.query` the page URL's decoded query parameters (search, filters, paging:
  // view model links and query forms reload the page with new ones); the body is empty.
  std::function<std::string(const RouteRequest& request)> view_model;
};

}  // namespace mdp::host
