// Rotations that finish themselves (api_access_auto_rotations, migration 0007).
//
// A rotation may ask for the old key to be revoked automatically once the integration has
// switched: after the new key's first successful request, once the old key has had no request
// for `quiet_seconds` (default 24 h). What "used" means comes from the usage flush (the old
// key's last_used_at, the new key's daily counts), never from a write per request.
//
// Exactly once across host processes: every change of a waiting rotation is an
// UPDATE ... WHERE state = 'waiting' inside one transaction with the key's own change, so of two
// processes (or a process and an admin) acting at once, one changes the row and the other's
// transaction changes nothing. A revocation updates revoked_at, whose trigger (sql/*/0002)
// writes the change feed that every host process reads.
//
// Threads: any; each call borrows its own session. Errors: soci::soci_error and
// DatabaseUnavailable propagate; nothing is half-written.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "keys/key_record.hpp"
#include "mdp/host/services.hpp"

namespace soci {
class session;
}

namespace mdp::api_access {

inline constexpr std::int64_t kDefaultQuietSeconds = 86'400;
inline constexpr std::int64_t kMinQuietSeconds = 60;               // the usage flush lags ~1 s
inline constexpr std::int64_t kMaxQuietSeconds = 30LL * 86'400;
inline constexpr const char* kAutomaticRotationActor = "automatic rotation";

// A waiting rotation with what it takes to judge it.
struct WaitingRotation {
  KeyId new_key_id = 0, old_key_id = 0;
  host::ClinicId clinic_id = 0;
  std::int64_t quiet_seconds = kDefaultQuietSeconds;
  Micros started_at = 0;
  // The old key.
  std::string old_label, old_preview;
  Micros old_created_at = 0;
  std::optional<Micros> old_last_used_at, old_revoked_at, old_expires_at;
  std::string old_last_used_address;  // "" when unknown
  // The new key.
  std::string new_preview;
  std::optional<Micros> new_revoked_at, new_expires_at;
  std::uint64_t new_key_successes = 0;  // its flushed requests that did not fail (not 4xx/5xx)
};

struct AutoRotationJudgement {
  enum class Verdict {
    wait_for_new_key,  // the new key has not had a successful request yet
    wait_for_quiet,    // it has; the old key was used less than quiet_seconds ago
    revoke,            // both: revoke the old key now
    old_key_gone,      // the old key is revoked or expired already: nothing left to do
    new_key_gone,      // the new key no longer works: leave the old key alone
  };
  Verdict verdict = Verdict::wait_for_new_key;
  Micros quiet_since = 0;  // the old key's last use (its creation if never used)
  Micros revoke_at = 0;    // quiet_since + quiet_seconds
};
// Pure: what a waiting rotation calls for at `now`.
AutoRotationJudgement judge(const WaitingRotation& w, Micros now) noexcept;

// "24 hours", "2 days", "90 minutes".
std::string duration_words(std::int64_t seconds);

// The "auto_rotation" member of the old key in GET keys:
// {"new_key":{"id","preview"}, "state":"waiting_for_new_key"|"waiting_for_quiet"|"revoking",
//  "quiet_seconds", "started_at", "old_key_last_used_at", "old_key_last_used_from", "revoke_at"}
// (revoke_at: null until the new key has worked; then when the old key goes, if it stays unused).
boost::json::object to_json(const WaitingRotation& w, Micros now);

class AutoRotationStore {
 public:
  explicit AutoRotationStore(host::Database& db) : db_(db) {}

  // In KeyStore::rotate's transaction (RotateAlso::in_transaction): the old key's waiting
  // rotation, if any, is replaced (cancelled by `by`) and a new one starts. Nothing for a
  // revoked old key.
  static void start(soci::session& sql, const KeyRecord& old_key, KeyId new_key,
                    std::int64_t quiet_seconds, const Actor& by, Micros now);

  // Every waiting rotation (of one clinic when given), oldest first.
  std::vector<WaitingRotation> waiting(std::optional<host::ClinicId> clinic = std::nullopt) const;

  // The background check's revocation: in one transaction, only if the rotation is still
  // waiting, the new key still works, and the old key is active and unused since
  // `w`'s quiet period began (re-read there: another process may have flushed a use since).
  // True when this call revoked the old key (and recorded the "revoked" event by the actor
  // "automatic rotation").
  bool revoke_automatically(const WaitingRotation& w, Micros now);
  // Closes a waiting rotation whose old or new key stopped working (`state`: "old_key_gone" or
  // "new_key_gone"). True when this call closed it.
  bool close(KeyId new_key, const char* state, Micros now);

  enum class AdminOutcome { done, no_such_key, not_waiting };
  // An admin finishes the old key's waiting rotation now: the old key is revoked by `by`.
  AdminOutcome finish(host::ClinicId clinic, KeyId old_key, const Actor& by, Micros now);
  // An admin cancels it: the old key stays as it is (an "updated" event says so).
  AdminOutcome cancel(host::ClinicId clinic, KeyId old_key, const Actor& by, Micros now);

 private:
  host::Database& db_;
};

}  // namespace mdp::api_access
