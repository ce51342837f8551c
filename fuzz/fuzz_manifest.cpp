// manifest.json validation: any bytes give a Manifest or one ManifestError line, nothing else.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "loader/manifest.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    mdp::devhost::Manifest m = mdp::devhost::parse_manifest(text, "/bundles/fuzz/manifest.json");
    if (m.id.empty() || m.library.empty()) __builtin_trap();  // accepted means complete
  } catch (const mdp::devhost::ManifestError& e) {
    const std::string_view what = e.what();
    if (what.find('\n') != std::string_view::npos) __builtin_trap();  // one line, always
  }
  return 0;
}
