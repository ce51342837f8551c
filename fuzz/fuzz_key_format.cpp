// The API key grammar and checksum: any text, no crash; a text the grammar accepts has a
// checksum answer that agrees between the two entry points, and its preview never holds more
// than the last four characters.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <botan/hash.h>

#include "keys/key_format.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace mdp::api_access;
  static const auto crc32 = Botan::HashFunction::create_or_throw("CRC32");
  static const auto sha256 = Botan::HashFunction::create_or_throw("SHA-256");
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  if (matches_grammar(text)) {
    if (text.size() != kKeyLength || text.substr(0, kKeyPrefix.size()) != kKeyPrefix) __builtin_trap();
    if (checksum_ok(text, *crc32) != checksum_ok(text)) __builtin_trap();
    const std::string preview = preview_of(text);
    if (preview.find(text.substr(kKeyPrefix.size(), text.size() - kKeyPrefix.size() - 4)) != std::string::npos)
      __builtin_trap();
  }
  const Digest d = digest_of(text, *sha256);
  if (digest_from_hex(to_hex(d)) != d) __builtin_trap();
  (void)digest_from_hex(text);
  return 0;
}
