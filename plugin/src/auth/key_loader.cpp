#include "auth/key_loader.hpp"

#include <soci/soci.h>

namespace mdp::api_access {

struct KeyLoader::Indicators {
  soci::indicator revoked = soci::i_null, expires = soci::i_null;
};

namespace {
inline constexpr std::chrono::milliseconds kLoaderLeaseTimeout{2000};
}

KeyLoader::KeyLoader(host::Database& db, KeyCache& cache, Entitlements& plans)
    : db_(db), cache_(cache), plans_(plans), ind_(std::make_unique<Indicators>()) {}

KeyLoader::~KeyLoader() { close(); }

void KeyLoader::drop() noexcept {
  by_hash_.reset();
  by_id_.reset();
  lease_.reset();
}

void KeyLoader::close() noexcept {
  std::lock_guard guard(mutex_);
  drop();
}

bool KeyLoader::ensure_open() {
  if (by_hash_) return true;
  lease_.emplace(db_, kLoaderLeaseTimeout);
  if (!*lease_) {
    lease_.reset();
    return false;
  }
  soci::session& sql = **lease_;
  by_hash_ = std::make_unique<soci::statement>(
      (sql.prepare << "SELECT id, clinic_id, scopes, preview, revoked_at, expires_at "
                      "FROM api_access_keys WHERE key_hash = :h",
       soci::into(id_), soci::into(clinic_), soci::into(scopes_), soci::into(preview_),
       soci::into(revoked_, ind_->revoked), soci::into(expires_, ind_->expires),
       soci::use(hash_hex_)));
  by_id_ = std::make_unique<soci::statement>(
      (sql.prepare << "SELECT revoked_at, expires_at FROM api_access_keys WHERE id = :id",
       soci::into(revoked_, ind_->revoked), soci::into(expires_, ind_->expires),
       soci::use(state_id_)));
  return true;
}

KeyLoader::Result KeyLoader::load(const Digest& digest) noexcept {
  std::lock_guard guard(mutex_);
  // Another request may have loaded it while this one waited for the mutex.
  if (CacheEntry* e = cache_.find(digest)) return {Outcome::found, e};
  try {
    if (!ensure_open()) return {Outcome::unavailable, nullptr};
    hash_hex_ = to_hex(digest);
    ind_->revoked = ind_->expires = soci::i_null;
    const bool found = by_hash_->execute(true);
    // Step to the end so SQLite closes its read transaction (a statement left mid-result would
    // pin a snapshot and, without WAL, block writers).
    if (found) by_hash_->fetch();
    if (!found) return {Outcome::unknown, nullptr};
    auto e = std::make_unique<CacheEntry>();
    e->digest = digest;
    e->key_id = id_;
    e->clinic_id = clinic_;
    e->scopes = split_scopes(scopes_);
    e->preview = preview_;
    e->plan = plans_.for_clinic(clinic_);
    e->revoked.store(ind_->revoked == soci::i_ok, std::memory_order_relaxed);
    e->expires_at.store(ind_->expires == soci::i_ok ? expires_ : kNever, std::memory_order_relaxed);
    return {Outcome::found, cache_.insert(std::move(e))};
  } catch (...) {
    drop();
    return {Outcome::unavailable, nullptr};
  }
}

bool KeyLoader::refresh(KeyId id) noexcept {
  std::lock_guard guard(mutex_);
  try {
    CacheEntry* e = cache_.by_id(id);
    if (e == nullptr) return true;
    if (!ensure_open()) return false;
    state_id_ = id;
    ind_->revoked = ind_->expires = soci::i_null;
    const bool found = by_id_->execute(true);
    if (found) by_id_->fetch();
    // A key deleted from the database behind our back is treated as revoked.
    const bool revoked = !found || ind_->revoked == soci::i_ok;
    e->expires_at.store(found && ind_->expires == soci::i_ok ? expires_ : kNever,
                        std::memory_order_release);
    if (revoked) e->revoked.store(true, std::memory_order_release);  // never un-revoked
    return true;
  } catch (...) {
    drop();
    return false;
  }
}

void KeyLoader::apply(KeyId id, bool revoked, std::optional<Micros> expires_at) noexcept {
  std::lock_guard guard(mutex_);
  try {
    CacheEntry* e = cache_.by_id(id);
    if (e == nullptr) return;
    e->expires_at.store(expires_at.value_or(kNever), std::memory_order_release);
    if (revoked) e->revoked.store(true, std::memory_order_release);
  } catch (...) {
  }
}

}  // namespace mdp::api_access
