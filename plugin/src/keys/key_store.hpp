// Key records and the audit trail in the host's database, through SOCI, the same on SQLite and
// PostgreSQL. Every statement is prepared with use()/into(); no user data is ever spliced into
// SQL text. The store never sees a key: callers pass its hash and preview.
//
// Threads: every method may be called concurrently; each borrows its own session from the
// host's pool. Errors: soci::soci_error (SQL) and DatabaseUnavailable (pool exhausted) propagate
// to the caller, who turns them into a 503 or a retry; nothing is half-written (one transaction
// per mutation).
//
// Used by the admin routes (plugin/src/routes/), the request hook's state refresh
// (plugin/src/auth/) and the pages (plugin/src/pages/).
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "keys/key_format.hpp"
#include "keys/key_query.hpp"
#include "keys/key_record.hpp"
#include "mdp/host/services.hpp"

namespace soci {
class session;
}

namespace mdp::api_access {

// What a new key row holds. `key_hash` is to_hex(digest_of(secret)).
struct NewKey {
  host::ClinicId clinic_id = 0;
  std::string label;
  std::vector<std::string> scopes;
  std::string key_hash;
  std::string preview;
  Actor created_by;
  Micros created_at = 0;
  std::optional<Micros> expires_at;
  std::string description;
  std::optional<RateLimit> rate_limit;  // nullopt: the plan's default
  AddressFilter allowed;                // empty: anywhere
};

// One page of a clinic's keys, as KeyStore::query finds them.
struct KeyPage {
  std::vector<KeyRecord> keys;
  std::size_t total = 0;  // matching keys on every page
  // For keys on this page that a rotation replaced: the preview of the newest replacement.
  std::map<KeyId, std::string> replaced_by;
};

// What else a rotation does in its own transaction: `detail` on the "rotated" event, and
// `in_transaction(session, old key, new key id)` (e.g. rotation/auto_rotation_store.hpp), which
// may throw to undo the whole rotation.
struct RotateAlso {
  std::string detail;
  std::function<void(soci::session&, const KeyRecord&, KeyId)> in_transaction;
};

// The parts of a key that can change after creation and that the request hook enforces.
struct KeyState {
  std::optional<Micros> revoked_at;
  std::optional<Micros> expires_at;
  KeyRules rules;
};

// What PATCH keys/{id} changes; an absent member stays as it is.
struct KeyUpdate {
  std::optional<std::string> label;
  std::optional<std::string> description;
  std::optional<std::vector<std::string>> scopes;      // must be a subset of the current ones
  std::optional<std::optional<RateLimit>> rate_limit;  // set; the inner nullopt: plan default
  std::optional<AddressFilter> allowed;

  bool empty() const noexcept {
    return !label && !description && !scopes && !rate_limit && !allowed;
  }
  // Scopes, rate limit or addresses: what the request hook enforces.
  bool changes_rules() const noexcept { return scopes || rate_limit || allowed; }
};

// What a leak report did to one token (routes/leak_reports.hpp).
struct LeakOutcome {
  enum class Status {
    revoked,     // it was a live key: revoked now, `key` is its new state
    not_active,  // a key, but already revoked or expired: nothing changed
    unknown,     // no key has this hash
  };
  Status status = Status::unknown;
  std::optional<KeyRecord> key;  // revoked: for the hook's cache and the log line
};

struct UpdateResult {
  enum class Outcome {
    updated,         // `key` is the new state (also when nothing actually differed)
    not_found,       // not a key of this clinic
    scope_widening,  // `scopes` named a scope the key does not hold
    revoked,         // the rules of a revoked key cannot change
  };
  Outcome outcome = Outcome::not_found;
  std::optional<KeyRecord> key;
  std::string detail;  // updated: what changed, in words ("" when nothing did)
};

class KeyStore {
 public:
  explicit KeyStore(host::Database& db) : db_(db) {}

  // Every key of `clinic`, newest first.
  std::vector<KeyRecord> list(host::ClinicId clinic) const;
  // The keys of `clinic` that match `q` (search, filter, sort, page), with statuses judged at
  // `now`, and how many match in all. One count and one page query, whatever the clinic's size.
  KeyPage query(host::ClinicId clinic, const KeyQuery& q, Micros now) const;
  // The key `id` if it belongs to `clinic`; another clinic's key is nullopt, like a missing one.
  std::optional<KeyRecord> get(host::ClinicId clinic, KeyId id) const;

  // Inserts the key and its "created" event in one transaction.
  KeyRecord create(const NewKey& key);
  // A new key with the old key's label and scopes, rotated_from = old, and a "rotated" event.
  // With `old_expires_at`, the old key (if still active) expires then, unless it already expires
  // sooner. nullopt when `old_id` is not a key of `nk.clinic_id`. nk.label/scopes are ignored.
  // `also`: more of the same transaction (see RotateAlso).
  std::optional<std::pair<KeyRecord, KeyRecord>> rotate(KeyId old_id, NewKey nk,
                                                        std::optional<Micros> old_expires_at,
                                                        const RotateAlso& also = {});
  // Revokes the key and records the event, once: a second revoke returns the record unchanged
  // and records nothing. nullopt when `id` is not a key of `clinic`.
  std::optional<KeyRecord> revoke(host::ClinicId clinic, KeyId id, const Actor& by, Micros now);
  // Applies `u` and records one "updated" event whose detail says what changed, in one
  // transaction. Scopes only ever narrow (a wider key is a new key). Changing nothing records
  // nothing.
  UpdateResult update(host::ClinicId clinic, KeyId id, const KeyUpdate& u, const Actor& by,
                      Micros now);
  // A leaked-key report: the key whose hash is `key_hash` (whatever its clinic), if it is live
  // at `now`, is revoked with revoked_reason 'leak_report', leak_url and leak_source, and a
  // 'revoked' event by the actor "leak report" (no user) whose detail names `url` and
  // `source` ("" when not given), in one transaction. Two reports racing: one revokes.
  LeakOutcome revoke_leaked(const std::string& key_hash, const std::string& url,
                            const std::string& source, Micros now);

  // The clinic's audit trail, newest first, at most `limit` events after skipping `offset`.
  // With `key`: only the events of that key, its rotation into a new key included.
  std::vector<KeyEvent> events(host::ClinicId clinic, std::size_t limit = 1000,
                               std::optional<KeyId> key = std::nullopt, std::size_t offset = 0) const;
  // How many events events() would page through.
  std::size_t count_events(host::ClinicId clinic, std::optional<KeyId> key = std::nullopt) const;
  // Records an "expired" event (actor: the system, at: the expiry time) for every key whose
  // expiry has passed and that has none yet. Returns how many it recorded.
  std::size_t sweep_expired(Micros now);

  // For the hook's cache: the mutable state of any key (no clinic filter: the caller already
  // holds the key's cache entry). nullopt if the key is gone.
  std::optional<KeyState> state(KeyId id) const;

  // Change feed (see sql/*/0001): ids grow; a row names a key whose state changed.
  std::int64_t latest_change() const;
  std::vector<std::pair<std::int64_t, KeyId>> changes_after(std::int64_t after,
                                                            std::size_t limit = 1000) const;

  // Keeps the newest `keep` change rows (a process polls every second, so it never needs more).
  void trim_changes(std::int64_t keep = 10000);

  host::Database& database() const noexcept { return db_; }

 private:
  host::Database& db_;
  std::mutex sweep_mutex_;  // one sweep at a time in this process (background thread + routes)
};

// For other stores that change a key inside their own transaction (rotation/): appends one
// audit event on `sql`, as KeyStore's own changes do. `actor` with id 0: not a user (its name
// says what, e.g. "automatic rotation"); nullopt: the system.
void record_key_event(soci::session& sql, host::ClinicId clinic, KeyId key_id, const std::string& type,
                      const std::string& label, const std::string& preview, const std::optional<Actor>& actor,
                      Micros at, std::optional<KeyId> related = std::nullopt, const std::string& detail = {});

}  // namespace mdp::api_access
