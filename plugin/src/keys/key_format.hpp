// The API key format: one grammar, generated here, checked here, shown masked here.
//
// Grammar (also in README.md, "API key format"):
//
//   key      = "mdp_" body                      ; 62 characters in all
//   body     = 58 * base32char                  ; RFC 4648 base32 of 36 bytes, '=' padding stripped
//   base32char = %x41-5A / %x32-37              ; A-Z and 2-7, upper case only
//   36 bytes = 32 random bytes (Botan System_RNG, 256 bits) || CRC32 of those 32 bytes
//              (Botan "CRC32", its 4-byte output as Botan emits it)
//
// Why this shape: the prefix lets people and secret scanners recognise a key; base32 has no
// '+', '/', '=' or '-', so a key is header-safe and a double click selects it whole; the CRC32
// rejects a mistyped or truncated key before any database query. The key is never stored: at
// rest it is SHA-256(full key text) (kept as 64 lowercase hex characters) plus the preview
// "mdp_…" + last 4 characters. A stored hash (64 hex chars, lowercase) never matches the grammar,
// so it can never be presented as a key.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace Botan {
class HashFunction;
class RandomNumberGenerator;
}  // namespace Botan

namespace mdp::api_access {

inline constexpr std::string_view kKeyPrefix = "mdp_";
inline constexpr std::size_t kKeyRandomBytes = 32;
inline constexpr std::size_t kKeyChecksumBytes = 4;
inline constexpr std::size_t kKeyBodyChars = 58;  // ceil(36 * 8 / 5)
inline constexpr std::size_t kKeyLength = 62;     // prefix + body

using Digest = std::array<std::uint8_t, 32>;

// A new key from `rng` (the plugin passes Botan::System_RNG). Throws what Botan throws.
std::string generate_key(Botan::RandomNumberGenerator& rng);

// The cheap check done before hashing: length, prefix, alphabet. No allocation.
bool matches_grammar(std::string_view key) noexcept;

// The CRC32 check, for a key that matches_grammar(); `crc32` is a Botan "CRC32" object (reset
// on return). False for a mistyped or truncated key. Never throws.
bool checksum_ok(std::string_view key, Botan::HashFunction& crc32) noexcept;
bool checksum_ok(std::string_view key) noexcept;  // creates its own CRC32 (tests, tools)

// "mdp_…WXYZ": the only part of a key the plugin keeps, logs or shows after creation.
std::string preview_of(std::string_view key);

// SHA-256 of the full key text, with a caller-owned Botan "SHA-256" object (reset on return).
Digest digest_of(std::string_view key, Botan::HashFunction& sha256) noexcept;
Digest digest_of(std::string_view key);  // creates its own SHA-256 (admin paths, tests)

std::string to_hex(const Digest& d);                              // 64 lowercase hex chars
std::optional<Digest> digest_from_hex(std::string_view hex) noexcept;

}  // namespace mdp::api_access
