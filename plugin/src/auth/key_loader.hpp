// The request hook's slow path: loads a key the cache has not seen from the database, and
// refreshes a cached key's mutable state (revoked, expires_at) after a change.
//
// One session leased from the host's pool and held by this object (misses are rare), with its
// two statements prepared once; a mutex serialises both operations. That mutex is also what
// keeps the cache fresh: a revocation commits in the database and THEN calls refresh(), which
// waits for any load() in flight. So a load that read the key before the revocation has
// inserted its entry before refresh() runs (and refresh() updates it), and a load after the
// commit reads the revoked state. No ordering leaves a stale entry.
//
// Errors: a failed statement drops the session and both statements; the next call leases and
// prepares again. Nothing throws out of this class.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "auth/entitlements.hpp"
#include "auth/key_cache.hpp"
#include "mdp/host/services.hpp"

namespace soci {
class statement;
}

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

  // Looks `digest` up in the database and caches it when found.
  Result load(const Digest& digest) noexcept;
  // Re-reads a cached key's state (no-op if the key is not cached). False on a database error.
  bool refresh(KeyId id) noexcept;
  // Sets a cached key's state from a record the caller just committed (the admin routes), under
  // the same mutex as load(). No-op if the key is not cached.
  void apply(KeyId id, bool revoked, std::optional<Micros> expires_at) noexcept;
  // Gives the session back to the host (Plugin::on_stop). Later calls lease again.
  void close() noexcept;

 private:
  bool ensure_open();  // under mutex_
  void drop() noexcept;

  host::Database& db_;
  KeyCache& cache_;
  Entitlements& plans_;

  std::mutex mutex_;
  std::optional<host::SessionLease> lease_;
  std::unique_ptr<soci::statement> by_hash_;
  std::unique_ptr<soci::statement> by_id_;
  // Bound variables of the two statements.
  std::string hash_hex_;
  long long id_ = 0, clinic_ = 0, revoked_ = 0, expires_ = 0, state_id_ = 0;
  std::string scopes_, preview_;
  struct Indicators;
  std::unique_ptr<Indicators> ind_;
};

}  // namespace mdp::api_access
