// RFC 3339 parsing, the plugin's (expires_at) and the host's (starts_at, the test clock): never a
// crash or hang on any text; what one accepts it formats back to a time it accepts again.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "util/rfc3339.hpp"
#include "util/time_format.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  if (auto t = mdp::api_access::parse_rfc3339(text)) {
    const std::string again = mdp::api_access::format_rfc3339(*t);
    auto back = mdp::api_access::parse_rfc3339(again);
    if (!back || *back != *t) __builtin_trap();  // formatting must round-trip exactly
  }
  if (auto t = mdp::devhost::parse_rfc3339(text)) {
    const std::string again = mdp::devhost::format_rfc3339(*t);
    auto back = mdp::devhost::parse_rfc3339(again);
    // The host's format drops the fraction: the round trip holds to the second.
    if (!back || std::chrono::floor<std::chrono::seconds>(*back) != std::chrono::floor<std::chrono::seconds>(*t))
      __builtin_trap();
  }
  return 0;
}
