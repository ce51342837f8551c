// Small SOCI helpers shared by the plugin's stores: a lease that throws when the host's pool is
// exhausted, and a write transaction that behaves the same on both dialects.
#pragma once

#include <chrono>
#include <stdexcept>

#include "mdp/host/services.hpp"

namespace mdp::api_access {

// The pool had no free session in time. Routes answer 503 `database_unavailable`.
struct DatabaseUnavailable : std::runtime_error {
  DatabaseUnavailable() : std::runtime_error("no database session available") {}
};

inline constexpr std::chrono::milliseconds kLeaseTimeout{5000};

class Lease {
 public:
  explicit Lease(host::Database& db) : lease_(db, kLeaseTimeout) {
    if (!lease_) throw DatabaseUnavailable();
  }
  soci::session& operator*() const noexcept { return *lease_; }
  soci::session* operator->() const noexcept { return lease_.operator->(); }

 private:
  host::SessionLease lease_;
};

// A write transaction. On SQLite it starts with BEGIN IMMEDIATE, so two writers queue on the
// busy timeout up front instead of one failing with SQLITE_BUSY when it upgrades a read lock.
// Rolls back in the destructor unless commit() ran.
class WriteTransaction {
 public:
  WriteTransaction(soci::session& sql, host::Dialect dialect);
  WriteTransaction(const WriteTransaction&) = delete;
  WriteTransaction& operator=(const WriteTransaction&) = delete;
  ~WriteTransaction();
  void commit();

 private:
  soci::session& sql_;
  bool open_ = true;
};

}  // namespace mdp::api_access
