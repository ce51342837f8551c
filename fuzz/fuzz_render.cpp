// The devhost's view-model renderer (host_interface/VIEW_MODEL.md): any JSON text from a plugin
// renders to a page (or the page's error notice), never a crash, and never lets the model's text
// open a <script> element of its own.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "render/render.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace render = mdp::devhost::render;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  render::PageChrome chrome;
  chrome.title = "Fuzz";
  chrome.user_name = "Olivia Hart";
  chrome.clinic_name = "Bright Smiles Dental";
  chrome.csrf_token = "token";
  chrome.current_path = "/settings/fuzz";
  chrome.action_base = "/plugins/fuzz/";
  std::string why;
  const std::string html = render::render_settings_page(text, chrome, &why);
  // Every <script in the page is the renderer's own (it loads files, and writes none inline);
  // model text is escaped, so it can never add one.
  const std::string empty = render::render_settings_page(std::string_view("{}"), chrome, nullptr);
  auto count = [](const std::string& s) {
    std::size_t n = 0;
    for (std::size_t p = s.find("<script"); p != std::string::npos; p = s.find("<script", p + 1)) ++n;
    return n;
  };
  if (count(html) > count(empty)) __builtin_trap();
  return 0;
}
