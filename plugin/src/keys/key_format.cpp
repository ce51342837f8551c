#include "keys/key_format.hpp"

#include <cstring>

#include <botan/base32.h>
#include <botan/hash.h>
#include <botan/hex.h>
#include <botan/mem_ops.h>
#include <botan/rng.h>

namespace mdp::api_access {

namespace {
// RFC 4648 base32 alphabet (A-Z, 2-7), as unsigned range tests without branches.
inline unsigned is_base32(unsigned char c) noexcept {
  return static_cast<unsigned>(static_cast<unsigned char>(c - 'A') < 26) |
         static_cast<unsigned>(static_cast<unsigned char>(c - '2') < 6);
}
// 36 bytes encode to 58 characters plus six '=' of padding, which Botan's decoder wants back.
constexpr std::size_t kPadding = 6;
}  // namespace

std::string generate_key(Botan::RandomNumberGenerator& rng) {
  std::uint8_t raw[kKeyRandomBytes + kKeyChecksumBytes];
  rng.randomize(raw, kKeyRandomBytes);
  auto crc = Botan::HashFunction::create_or_throw("CRC32");
  crc->update(raw, kKeyRandomBytes);
  crc->final(raw + kKeyRandomBytes);
  std::string body = Botan::base32_encode(raw, sizeof raw);
  Botan::secure_scrub_memory(raw, sizeof raw);
  while (!body.empty() && body.back() == '=') body.pop_back();
  std::string key;
  key.reserve(kKeyLength);
  key.append(kKeyPrefix);
  key.append(body);
  Botan::secure_scrub_memory(body.data(), body.size());
  return key;
}

bool matches_grammar(std::string_view key) noexcept {
  if (key.size() != kKeyLength || key.substr(0, kKeyPrefix.size()) != kKeyPrefix) return false;
  // Branch-free over the fixed-length body so the compiler vectorises it: this runs on every
  // API request (bench/hook_bench.cpp measured ~70 ns with an early exit, ~13 ns without).
  const auto* body = reinterpret_cast<const unsigned char*>(key.data()) + kKeyPrefix.size();
  unsigned all_base32 = 1;
  for (std::size_t i = 0; i < kKeyBodyChars; ++i) all_base32 &= is_base32(body[i]);
  if (!all_base32) return false;
  // 58 characters carry 290 bits for 288: the last character's low 2 bits must be zero, so
  // exactly one text maps to each 36 bytes (no two spellings of one key).
  const char last = key.back();
  const int v = last >= 'A' ? last - 'A' : last - '2' + 26;
  return (v & 0x3) == 0;
}

bool checksum_ok(std::string_view key, Botan::HashFunction& crc32) noexcept {
  if (!matches_grammar(key)) return false;
  try {
    char padded[kKeyBodyChars + kPadding];
    std::memcpy(padded, key.data() + kKeyPrefix.size(), kKeyBodyChars);
    std::memset(padded + kKeyBodyChars, '=', kPadding);
    std::uint8_t raw[40];  // 64 base32 characters decode to at most 40 bytes
    const std::size_t n = Botan::base32_decode(raw, padded, sizeof padded, false);
    if (n != kKeyRandomBytes + kKeyChecksumBytes) return false;
    std::uint8_t crc[kKeyChecksumBytes];
    crc32.clear();
    crc32.update(raw, kKeyRandomBytes);
    crc32.final(crc);
    const bool ok = std::memcmp(crc, raw + kKeyRandomBytes, kKeyChecksumBytes) == 0;
    Botan::secure_scrub_memory(raw, sizeof raw);
    Botan::secure_scrub_memory(padded, sizeof padded);
    return ok;
  } catch (...) {
    return false;
  }
}

bool checksum_ok(std::string_view key) noexcept {
  try {
    auto crc = Botan::HashFunction::create_or_throw("CRC32");
    return checksum_ok(key, *crc);
  } catch (...) {
    return false;
  }
}

std::string preview_of(std::string_view key) {
  std::string p(kKeyPrefix);
  p += "\xE2\x80\xA6";  // U+2026 HORIZONTAL ELLIPSIS
  p += key.size() >= 4 ? key.substr(key.size() - 4) : std::string_view{};
  return p;
}

Digest digest_of(std::string_view key, Botan::HashFunction& sha256) noexcept {
  Digest d{};
  sha256.update(reinterpret_cast<const std::uint8_t*>(key.data()), key.size());
  sha256.final(d.data());
  return d;
}

Digest digest_of(std::string_view key) {
  auto sha = Botan::HashFunction::create_or_throw("SHA-256");
  return digest_of(key, *sha);
}

std::string to_hex(const Digest& d) { return Botan::hex_encode(d.data(), d.size(), false); }

std::optional<Digest> digest_from_hex(std::string_view hex) noexcept {
  if (hex.size() != 64) return std::nullopt;
  try {
    Digest d{};
    if (Botan::hex_decode(d.data(), hex.data(), hex.size(), false) != d.size()) return std::nullopt;
    return d;
  } catch (...) {
    return std::nullopt;
  }
}

}  // namespace mdp::api_access
