// The request hook's slow path: loads a key the cache has not seen from the database, and sets
// a cached key's mutable state (revoked, expires_at) after a change (admin routes, change feed).
//
// No lock is held while the database is read, so misses never queue behind each other: a miss
// uses the loader's own session (held, with its statement prepared once) when it is free, and
// otherwise borrows a session from the host's pool for that one lookup.
//
// Freshness: apply() bumps an epoch under `insert_mutex_`; load() notes the epoch before it
// reads and inserts its entry under the same mutex only if the epoch has not moved (otherwise
// it reads again). So a load that read a key before a revocation was applied can never insert
// the stale "active" after apply() looked for the entry and found none: either it sees the bump
// and re-reads (the revocation is committed by then), or its insert comes first and apply()
// finds the entry. apply() runs only after the change committed.
//
// Errors: a failed statement drops the held session (the next call leases again) and answers
// unavailable. Nothing throws out of this class.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "auth/entitlements.hpp"
#include "auth/key_cache.hpp"
#include "mdp/host/services.hpp"

namespace soci {
class session;
class statement;
}  // namespace soci

namespace mdp::api_access {

class KeyLoader {
 public:
  enum class Outcome { found, unknown, unavailable };
  struct Result {
    Outcome outcome = Outcome::unknown;
    CacheEntry* entry = nullptr;
  };

  KeyLoader(host::Database& db, KeyCache& cache, Entitlements& plans);
  ~KeyLoader();

  // Looks `digest` up in the database and caches it when found. Any thread, concurrently.
  Result load(const Digest& digest) noexcept;
  // Sets a cached key's state from the database's current state (the caller read or committed
  // it). No-op if the key is not cached. Revoked is never undone. `rules`: the key's scopes,
  // addresses and rate limit now; nullptr leaves them (a deleted key, which decides as revoked).
  void apply(KeyId id, bool revoked, std::optional<Micros> expires_at,
             const KeyRules* rules) noexcept;
  // Gives the held session back to the host (Plugin::on_stop). Later calls lease again.
  void close() noexcept;

 public:
  struct Row;  // one key's row as a load reads it (key_loader.cpp)

 private:
  struct Held;  // the held session and its prepared statement
  bool read_held(const Digest& digest, Row& row);  // under held_mutex_
  bool read_pooled(const Digest& digest, Row& row);

  host::Database& db_;
  KeyCache& cache_;
  Entitlements& plans_;

  std::mutex held_mutex_;  // the held session: one user at a time (others use the pool)
  std::unique_ptr<Held> held_;
  std::mutex insert_mutex_;  // orders inserts against apply()
  std::atomic<std::uint64_t> epoch_{0};
};

}  // namespace mdp::api_access
