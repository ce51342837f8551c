// Plan changes reach every host process that shares the database (the contract is
// Plugin::on_subscription_changed in host_interface plugin.hpp). Owned by the devhost.
//
// Writers call record_subscription_change() inside the transaction that changes a clinic's tier
// or addons. It appends a row to host_subscription_changes(id, clinic_id, changed_at) and, on
// PostgreSQL, runs pg_notify('host_subscription_changes', id), which the server delivers to every
// listener when (and only if) the transaction commits. A transaction-scoped advisory lock makes
// writers take turns from the id's allocation to their commit, so ids become visible in id
// order: a reader that has seen id N has seen every id below it, and "id > last seen" misses
// nothing. (SQLite has one writer at a time anyway.)
//
// Readers: one SubscriptionChangeListener per process. Its thread
//   - PostgreSQL: holds its own connection (outside the pool) with LISTEN, waits in poll() on
//     that socket and on an eventfd (stop), at most kPollInterval at a time;
//   - SQLite: borrows a pooled session every kPollInterval (the polling fallback alone; several
//     processes on one SQLite file are not supported anyway);
// and after every wake reads the rows after its last position, calling `on_change(clinic)` for
// each, in id order. When its connection is lost, or a read fails, it cannot tell what it
// missed: once it reads again it calls `on_change(host::kEveryClinic)` first. Every
// kTrimInterval it deletes rows older than kRetention (any process may; all are idempotent).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "mdp/host/plugin.hpp"

namespace soci {
class session;
}

namespace mdp::devhost {

class SociDatabase;

// Inside the caller's open write transaction on `s`. Throws soci::soci_error / DatabaseError.
void record_subscription_change(soci::session& s, host::Dialect dialect, host::ClinicId clinic);

class SubscriptionChangeListener {
 public:
  static constexpr std::chrono::milliseconds kPollInterval{1000};
  static constexpr std::chrono::minutes kRetention{10};
  static constexpr std::chrono::seconds kTrimInterval{60};

  // `on_change` runs on the listener's thread and must not throw (a plugin's
  // on_subscription_changed is noexcept).
  using Callback = std::function<void(host::ClinicId)>;
  SubscriptionChangeListener(SociDatabase& db, Callback on_change);
  ~SubscriptionChangeListener();  // stop()
  SubscriptionChangeListener(const SubscriptionChangeListener&) = delete;
  SubscriptionChangeListener& operator=(const SubscriptionChangeListener&) = delete;

  // Connects, takes the current last id as its position and starts the thread. Throws
  // DatabaseError when the database cannot be reached (the devhost does not start then).
  void start();
  // Wakes and joins the thread. Idempotent.
  void stop() noexcept;

  // The last change id read (for tests and logs).
  std::int64_t position() const noexcept { return position_.load(); }

 private:
  struct Connection;  // the PostgreSQL LISTEN connection
  void run() noexcept;
  bool connect() noexcept;                   // PostgreSQL: open + LISTEN + position
  // The LISTEN connection on PostgreSQL; a pooled session in `lease` on SQLite (nullptr: none).
  soci::session* reader(std::optional<host::SessionLease>& lease);
  bool read_new_changes() noexcept;          // false: could not read
  void trim_if_due() noexcept;
  bool wait(std::chrono::milliseconds timeout) noexcept;  // false: stop requested

  SociDatabase& db_;
  Callback on_change_;
  std::unique_ptr<Connection> conn_;
  int stop_fd_ = -1;
  std::atomic<bool> stopping_{false};
  std::atomic<std::int64_t> position_{0};
  bool lost_track_ = false;
  std::chrono::steady_clock::time_point next_trim_{};
  std::thread thread_;
};

}  // namespace mdp::devhost
