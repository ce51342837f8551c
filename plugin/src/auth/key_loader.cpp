#include "auth/key_loader.hpp"

#include <soci/soci.h>

#include "keys/key_state_row.hpp"

namespace mdp::api_access {

namespace {
inline constexpr std::chrono::milliseconds kLeaseTimeout{1000};
inline constexpr int kAttempts = 3;  // reads retried when a change was applied meanwhile
}  // namespace

struct KeyLoader::Row {
  std::string hash_hex;
  long long id = 0, clinic = 0;
  std::string preview;
  KeyStateRow state;
};

namespace {
std::unique_ptr<soci::statement> prepare_by_hash(soci::session& sql, KeyLoader::Row& r);
}

struct KeyLoader::Held {
  explicit Held(host::Database& db) : lease(db, kLeaseTimeout) {}
  host::SessionLease lease;
  Row row;  // bound to the statement
  std::unique_ptr<soci::statement> by_hash;
};

KeyLoader::KeyLoader(host::Database& db, KeyCache& cache, Entitlements& plans)
    : db_(db), cache_(cache), plans_(plans) {}

KeyLoader::~KeyLoader() { close(); }

void KeyLoader::close() noexcept {
  std::lock_guard guard(held_mutex_);
  held_.reset();
}

bool KeyLoader::read_held(const Digest& digest, Row& out) {
  if (!held_) {
    auto h = std::make_unique<Held>(db_);
    if (!h->lease) return read_pooled(digest, out);  // none free now: try like any other miss
    h->by_hash = prepare_by_hash(*h->lease, h->row);
    held_ = std::move(h);
  }
  Row& r = held_->row;
  r.hash_hex = to_hex(digest);
  r.state.reset();
  const bool found = held_->by_hash->execute(true);
  // Step to the end so SQLite closes its read transaction (a statement left mid-result would
  // pin a snapshot and, without WAL, block writers).
  if (found) held_->by_hash->fetch();
  if (found) out = r;
  return found;
}

bool KeyLoader::read_pooled(const Digest& digest, Row& r) {
  host::SessionLease lease(db_, kLeaseTimeout);
  if (!lease) throw std::runtime_error("no database session");
  r.hash_hex = to_hex(digest);
  auto st = prepare_by_hash(*lease, r);
  const bool found = st->execute(true);
  if (found) st->fetch();
  return found;
}

KeyLoader::Result KeyLoader::load(const Digest& digest) noexcept {
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    // Another request may have loaded it meanwhile.
    if (CacheEntry* e = cache_.find(digest)) return {Outcome::found, e};
    const std::uint64_t epoch = epoch_.load(std::memory_order_seq_cst);
    Row row;
    bool found = false;
    try {
      std::unique_lock held(held_mutex_, std::try_to_lock);
      if (held.owns_lock()) {
        try {
          found = read_held(digest, row);
        } catch (...) {
          held_.reset();  // a dead connection: give it back, the pool heals it
          throw;
        }
      } else {
        found = read_pooled(digest, row);
      }
    } catch (...) {
      return {Outcome::unavailable, nullptr};
    }
    if (!found) return {Outcome::unknown, nullptr};
    try {
      auto e = std::make_unique<CacheEntry>();
      e->digest = digest;
      e->key_id = row.id;
      e->clinic_id = row.clinic;
      e->preview = row.preview;
      e->plan = plans_.for_clinic(row.clinic);
      e->set_rules(row.state.rules());
      e->revoked.store(row.state.is_revoked(), std::memory_order_relaxed);
      e->expires_at.store(row.state.expires_at().value_or(kNever), std::memory_order_relaxed);
      std::lock_guard guard(insert_mutex_);
      if (epoch_.load(std::memory_order_seq_cst) != epoch) continue;  // read again
      return {Outcome::found, cache_.insert(std::move(e))};
    } catch (...) {
      return {Outcome::unavailable, nullptr};
    }
  }
  return {Outcome::unavailable, nullptr};  // changes kept arriving: let the client retry
}

void KeyLoader::apply(KeyId id, bool revoked, std::optional<Micros> expires_at,
                      const KeyRules* rules) noexcept {
  std::lock_guard guard(insert_mutex_);
  epoch_.fetch_add(1, std::memory_order_seq_cst);
  try {
    CacheEntry* e = cache_.by_id(id);
    if (e == nullptr) return;
    if (rules != nullptr) e->set_rules(*rules);
    e->expires_at.store(expires_at.value_or(kNever), std::memory_order_release);
    if (revoked) e->revoked.store(true, std::memory_order_release);
  } catch (...) {
  }
}

namespace {
std::unique_ptr<soci::statement> prepare_by_hash(soci::session& sql, KeyLoader::Row& r) {
  auto st = std::make_unique<soci::statement>(sql);
  st->exchange(soci::into(r.id));
  st->exchange(soci::into(r.clinic));
  st->exchange(soci::into(r.preview));
  r.state.bind(*st);
  st->exchange(soci::use(r.hash_hex));
  st->alloc();
  st->prepare(std::string("SELECT id, clinic_id, preview, ") + KeyStateRow::kColumns +
              " FROM api_access_keys WHERE key_hash = :h");
  st->define_and_bind();
  return st;
}
}  // namespace

}  // namespace mdp::api_access
