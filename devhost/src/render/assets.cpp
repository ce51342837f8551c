// The host dialogs every settings page carries, and the lookup of the embedded assets.
#include "render/assets.hpp"

namespace mdp::devhost::render {

// Defined in the generated assets_data.cpp.
extern const Asset kAssets[];
extern const std::size_t kAssetCount;

const Asset* find_asset(std::string_view name) noexcept {
  for (std::size_t i = 0; i < kAssetCount; ++i)
    if (kAssets[i].name == name) return &kAssets[i];
  return nullptr;
}

std::string asset_url(std::string_view name) {
  std::string url = "/assets/" + std::string(name);
  if (const Asset* a = find_asset(name)) url += "?v=" + std::string(a->version);
  return url;
}

const std::string_view kDialogs = R"HTML(<dialog class="modal" id="mdp-confirm" aria-modal="true" aria-labelledby="mdp-confirm-title" aria-describedby="mdp-confirm-text">
<div class="modal-head"><h2 id="mdp-confirm-title">Are you sure?</h2></div><p id="mdp-confirm-text"></p>
<div class="form-actions"><button type="button" class="btn" id="mdp-confirm-cancel">Cancel</button><button type="button" class="btn btn-primary" id="mdp-confirm-ok">Confirm</button></div></dialog>
<dialog class="modal" id="mdp-secret" aria-modal="true" aria-labelledby="mdp-secret-title" aria-describedby="mdp-secret-warning">
<div class="modal-head"><h2 id="mdp-secret-title">Copy your new secret</h2></div>
<div class="notice tone-warning"><p id="mdp-secret-warning"></p></div>
<label for="mdp-secret-value" class="hint">Secret</label>
<div class="secret-box"><input type="text" id="mdp-secret-value" readonly spellcheck="false" autocomplete="off"><button type="button" class="btn btn-primary" id="mdp-secret-copy">Copy</button></div>
<p class="copy-status" id="mdp-secret-status" aria-live="polite"></p>
<div class="form-actions"><button type="button" class="btn" id="mdp-secret-close">I have stored it safely — close</button></div></dialog>)HTML";

}  // namespace mdp::devhost::render
