#include "auth/hasher_pool.hpp"

#include <botan/hash.h>

namespace mdp::api_access {

namespace {
// Trivially destructible, so it registers no TLS destructor (see the header).
thread_local unsigned t_slot_hint = ~0u;
std::atomic<unsigned> g_next_hint{0};
}  // namespace

HasherPool::HasherPool() {
  for (auto& s : slots_) {
    s.sha256 = Botan::HashFunction::create_or_throw("SHA-256");
    s.crc32 = Botan::HashFunction::create_or_throw("CRC32");
  }
}

HasherPool::~HasherPool() = default;

HasherPool::Slot* HasherPool::acquire() noexcept {
  if (t_slot_hint == ~0u) t_slot_hint = g_next_hint.fetch_add(1, std::memory_order_relaxed);
  const unsigned start = t_slot_hint;
  for (unsigned i = 0; i < kSlots; ++i) {
    Slot& s = slots_[(start + i) % kSlots];
    if (!s.busy.load(std::memory_order_relaxed) &&
        !s.busy.exchange(true, std::memory_order_acquire)) {
      t_slot_hint = (start + i) % kSlots;
      return &s;
    }
  }
  return nullptr;
}

Digest HasherPool::sha256(std::string_view key) noexcept {
  if (Slot* s = acquire()) {
    Digest d = digest_of(key, *s->sha256);
    release(s);
    return d;
  }
  try {
    return digest_of(key);
  } catch (...) {
    return Digest{};  // allocation failure: an all-zero digest matches no stored key
  }
}

bool HasherPool::checksum_ok(std::string_view key) noexcept {
  if (Slot* s = acquire()) {
    const bool ok = api_access::checksum_ok(key, *s->crc32);
    release(s);
    return ok;
  }
  return api_access::checksum_ok(key);
}

}  // namespace mdp::api_access
