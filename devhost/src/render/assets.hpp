// The CSS, the plain JavaScript and the host dialogs every rendered page carries inline, so the
// devhost needs no static-file route and a page is one response.
#pragma once

#include <string_view>

namespace mdp::devhost::render {
extern const std::string_view kCss;
extern const std::string_view kJs;       // actions, modals, confirmations, one-time secret, avatar menu
extern const std::string_view kDialogs;  // the host's confirm and one-time secret <dialog>s
extern const std::string_view kLoginJs;
}  // namespace mdp::devhost::render
