// Which messages a clinic's admins get about their keys, and their words. Pure functions of a
// key's facts and the host clock's "now", so tests can check every rule without a database.
// Days are the clinic's calendar days (its time zone), like the usage they are judged on.
//
// Once per key and cause (the notice_key says what "once" means):
//   rotation_soon  key/<id>/rotation_soon   7 days before the key turns 90 days old (keys are
//                                           rotated every 90 days; a rotated key's replacement
//                                           is a new key, with its own 90 days)
//   rotation_due   key/<id>/rotation_due    from day 90 on
//   expiring_soon  key/<id>/expiring_soon   in the 7 days before expires_at
//   unused         key/<id>/unused          no request for 30 days (never used: 30 days since
//                                           creation)
//   spike          key/<id>/spike/<date>    the clinic's today far above the recent days
//                                           (usage/spike.hpp); a spike on another day is
//                                           another event
//   revoked_leak   key/<id>/revoked_leak    revoked through a leaked-key report (last 7 days)
//   revoked_auto   key/<id>/revoked_auto    revoked by a rotation that finished itself, once the
//                                           old key went unused (last 7 days)
// Only active keys get the first five. A message whose moment has passed is not sent late: a
// key already 90 days old gets rotation_due, not rotation_soon too.
//
// The weekly digest, digest/<ISO week of the clinic's today>: one message per clinic and week summarising its keys,
// last week's requests, anomalies and due actions, sent only when there is an action to take.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "keys/key_record.hpp"
#include "mdp/host/services.hpp"
#include "usage/usage_store.hpp"
#include "util/clinic_time.hpp"

namespace mdp::api_access {

inline constexpr int kRotationNoticeLeadDays = 7;
inline constexpr int kExpiryNoticeLeadDays = 7;
inline constexpr int kRevokedNoticeWindowDays = 7;
inline constexpr int kFactsUsageDays = 21;  // usage per key the rules look at (spike + digest)

// What the rules know about a key.
struct KeyFacts {
  KeyId id = 0;
  host::ClinicId clinic_id = 0;
  std::string label, preview;
  Micros created_at = 0;
  std::optional<Micros> last_used_at, expires_at, revoked_at;
  std::string revoked_reason;  // "" (by a user) or "leak_report"
  bool revoked_automatically = false;  // by a rotation that finished itself (rotation/)
  ClinicZone zone;  // the clinic's calendar: the days of `recent` are its days
  // The last kFactsUsageDays of the clinic's days ending today, oldest first (dense; zero days
  // included).
  std::vector<DayUsage> recent;
};

struct Notice {
  host::ClinicId clinic_id = 0;
  std::optional<KeyId> key_id;
  std::string notice_key, cause;
  host::NotificationSeverity severity = host::NotificationSeverity::info;
  std::string subject, body, link;
};

// The notices due for `key` at `now` (each rule at most once).
std::vector<Notice> key_notices(const KeyFacts& key, Micros now);

// The clinic's digest for the ISO week of its day at `now` (in `zone`), if there is anything to
// act on. `keys`: the clinic's active keys plus those revoked in the last week.
std::optional<Notice> weekly_digest(host::ClinicId clinic, const ClinicZone& zone, const std::vector<KeyFacts>& keys,
                                    Micros now);

// "digest/2026-W49": the digest's notice key for a clinic whose day at `now` is in that week.
std::string digest_key(const ClinicZone& zone, Micros now);

// "2026-W49": the ISO 8601 week of a day.
std::string iso_week(DayNumber day);

std::string severity_name(host::NotificationSeverity s);

}  // namespace mdp::api_access
