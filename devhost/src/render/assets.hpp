// The files every rendered page loads (assets/app.css, assets/app.js, assets/login.js), embedded
// at build time (cmake/EmbedAssets.cmake) and served by the devhost under /assets/<name>, plus
// the host's own dialogs that every settings page carries.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace mdp::devhost::render {

struct Asset {
  std::string_view name;          // e.g. "app.css"
  std::string_view content_type;  // e.g. "text/css; charset=utf-8"
  std::string_view version;       // 16 hex digits of the content's SHA-256
  std::string_view body;
};

// The asset called `name`, or nullptr.
const Asset* find_asset(std::string_view name) noexcept;

// "/assets/<name>?v=<version>": the URL pages use, so a browser may cache it for good.
std::string asset_url(std::string_view name);

// The host's confirm and one-time-secret <dialog>s (HTML).
extern const std::string_view kDialogs;

}  // namespace mdp::devhost::render
