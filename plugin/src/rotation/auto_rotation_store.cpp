#include "rotation/auto_rotation_store.hpp"

#include <algorithm>

#include <soci/soci.h>

#include "keys/key_store.hpp"
#include "util/db.hpp"

namespace mdp::api_access {

namespace {

std::optional<Micros> opt(long long v, soci::indicator i) {
  return i == soci::i_ok ? std::optional<Micros>(v) : std::nullopt;
}

bool active(const std::optional<Micros>& revoked, const std::optional<Micros>& expires, Micros now) {
  return !revoked && (!expires || *expires > now);
}

struct KeyName {
  std::string label, preview;
};

// The label and preview of a key of `clinic` (nullopt: no such key there).
std::optional<KeyName> key_name(soci::session& sql, long long clinic, long long id) {
  KeyName k;
  sql << "SELECT label, preview FROM api_access_keys WHERE id = :id AND clinic_id = :c", soci::into(k.label),
      soci::into(k.preview), soci::use(id), soci::use(clinic);
  if (!sql.got_data()) return std::nullopt;
  return k;
}

}  // namespace

std::string duration_words(std::int64_t s) {
  auto n = [](std::int64_t v, const char* one, const char* many) {
    return std::to_string(v) + " " + (v == 1 ? one : many);
  };
  if (s % 86'400 == 0 && s >= 2 * 86'400) return n(s / 86'400, "day", "days");
  if (s % 3600 == 0) return n(s / 3600, "hour", "hours");
  if (s % 60 == 0) return n(s / 60, "minute", "minutes");
  return n(s, "second", "seconds");
}

AutoRotationJudgement judge(const WaitingRotation& w, Micros now) noexcept {
  AutoRotationJudgement j;
  j.quiet_since = w.old_last_used_at.value_or(w.old_created_at);
  j.revoke_at = j.quiet_since + w.quiet_seconds * kMicrosPerSecond;
  using V = AutoRotationJudgement::Verdict;
  if (!active(w.old_revoked_at, w.old_expires_at, now)) j.verdict = V::old_key_gone;
  else if (!active(w.new_revoked_at, w.new_expires_at, now)) j.verdict = V::new_key_gone;
  else if (w.new_key_successes == 0) j.verdict = V::wait_for_new_key;
  else if (now < j.revoke_at) j.verdict = V::wait_for_quiet;
  else j.verdict = V::revoke;
  return j;
}

boost::json::object to_json(const WaitingRotation& w, Micros now) {
  const AutoRotationJudgement j = judge(w, now);
  using V = AutoRotationJudgement::Verdict;
  const char* state = j.verdict == V::wait_for_new_key ? "waiting_for_new_key"
                      : j.verdict == V::wait_for_quiet ? "waiting_for_quiet"
                                                       : "revoking";  // at the next background check
  boost::json::object o;
  o["new_key"] = boost::json::object{{"id", w.new_key_id}, {"preview", w.new_preview}};
  o["state"] = state;
  o["quiet_seconds"] = w.quiet_seconds;
  o["started_at"] = format_rfc3339(w.started_at);
  o["old_key_last_used_at"] = w.old_last_used_at ? boost::json::value(format_rfc3339(*w.old_last_used_at)) : nullptr;
  o["old_key_last_used_from"] = w.old_last_used_address.empty() ? boost::json::value(nullptr)
                                                                : boost::json::value(w.old_last_used_address);
  o["revoke_at"] = j.verdict == V::wait_for_new_key ? boost::json::value(nullptr)
                                                    : boost::json::value(format_rfc3339(std::max(j.revoke_at, now)));
  return o;
}

void AutoRotationStore::start(soci::session& sql, const KeyRecord& old_key, KeyId new_key,
                              std::int64_t quiet_seconds, const Actor& by, Micros now) {
  if (old_key.revoked_at) return;
  long long old_id = old_key.id, new_id = new_key, clinic = old_key.clinic_id, quiet = quiet_seconds,
            at = now, by_id = by.id;
  sql << "UPDATE api_access_auto_rotations SET state = 'cancelled', ended_at = :a, ended_by_id = :bi, "
         "ended_by_name = :bn WHERE old_key_id = :o AND state = 'waiting'",
      soci::use(at), soci::use(by_id), soci::use(by.name), soci::use(old_id);
  sql << "INSERT INTO api_access_auto_rotations (new_key_id, old_key_id, clinic_id, quiet_seconds, state, "
         "created_at) VALUES (:n, :o, :c, :q, 'waiting', :a)",
      soci::use(new_id), soci::use(old_id), soci::use(clinic), soci::use(quiet), soci::use(at);
}

std::vector<WaitingRotation> AutoRotationStore::waiting(std::optional<host::ClinicId> clinic) const {
  Lease sql(db_);
  WaitingRotation w;
  long long new_id = 0, old_id = 0, clinic_id = 0, quiet = 0, started = 0, old_created = 0, old_last = 0,
            old_revoked = 0, old_expires = 0, new_revoked = 0, new_expires = 0, successes = 0;
  long long only = clinic.value_or(0);
  soci::indicator i_last = soci::i_null, i_orev = soci::i_null, i_oexp = soci::i_null, i_addr = soci::i_null,
                  i_nrev = soci::i_null, i_nexp = soci::i_null;
  std::string address;
  soci::statement st(*sql);
  st.exchange(soci::into(new_id));
  st.exchange(soci::into(old_id));
  st.exchange(soci::into(clinic_id));
  st.exchange(soci::into(quiet));
  st.exchange(soci::into(started));
  st.exchange(soci::into(w.old_label));
  st.exchange(soci::into(w.old_preview));
  st.exchange(soci::into(old_created));
  st.exchange(soci::into(old_last, i_last));
  st.exchange(soci::into(old_revoked, i_orev));
  st.exchange(soci::into(old_expires, i_oexp));
  st.exchange(soci::into(address, i_addr));
  st.exchange(soci::into(w.new_preview));
  st.exchange(soci::into(new_revoked, i_nrev));
  st.exchange(soci::into(new_expires, i_nexp));
  st.exchange(soci::into(successes));
  if (clinic) st.exchange(soci::use(only));
  st.alloc();
  // The new key's successes: its requests that were neither 4xx nor 5xx, as the usage flush
  // wrote them (every host process's).
  st.prepare(std::string(
                 "SELECT r.new_key_id, r.old_key_id, r.clinic_id, r.quiet_seconds, r.created_at, "
                 "o.label, o.preview, o.created_at, o.last_used_at, o.revoked_at, o.expires_at, o.last_used_address, "
                 "n.preview, n.revoked_at, n.expires_at, "
                 "CAST((SELECT COALESCE(SUM(u.requests - u.client_errors - u.server_errors), 0) "
                 "FROM api_access_usage_daily u WHERE u.key_id = r.new_key_id) AS BIGINT) "
                 "FROM api_access_auto_rotations r "
                 "JOIN api_access_keys o ON o.id = r.old_key_id "
                 "JOIN api_access_keys n ON n.id = r.new_key_id "
                 "WHERE r.state = 'waiting'") +
             (clinic ? " AND r.clinic_id = :c" : "") + " ORDER BY r.new_key_id");
  st.define_and_bind();
  st.execute();
  std::vector<WaitingRotation> out;
  while (st.fetch()) {
    w.new_key_id = new_id;
    w.old_key_id = old_id;
    w.clinic_id = clinic_id;
    w.quiet_seconds = quiet;
    w.started_at = started;
    w.old_created_at = old_created;
    w.old_last_used_at = opt(old_last, i_last);
    w.old_revoked_at = opt(old_revoked, i_orev);
    w.old_expires_at = opt(old_expires, i_oexp);
    w.old_last_used_address = i_addr == soci::i_ok ? address : std::string();
    w.new_revoked_at = opt(new_revoked, i_nrev);
    w.new_expires_at = opt(new_expires, i_nexp);
    w.new_key_successes = successes > 0 ? static_cast<std::uint64_t>(successes) : 0;
    out.push_back(w);
    i_last = i_orev = i_oexp = i_addr = i_nrev = i_nexp = soci::i_null;
  }
  return out;
}

bool AutoRotationStore::revoke_automatically(const WaitingRotation& w, Micros now) {
  Lease sql(db_);
  WriteTransaction tx(*sql, db_.dialect());
  long long old_id = w.old_key_id, new_id = w.new_key_id, at = now;
  long long quiet_before = now - w.quiet_seconds * kMicrosPerSecond;
  std::string actor = kAutomaticRotationActor;
  // The old key first: on PostgreSQL its row lock makes a second process wait here, and then
  // find it revoked.
  soci::statement revoke =
      (sql->prepare << "UPDATE api_access_keys SET revoked_at = :a, revoked_by_id = NULL, revoked_by_name = :n "
                       "WHERE id = :o AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > :a2) "
                       "AND COALESCE(last_used_at, created_at) <= :q",
       soci::use(at), soci::use(actor), soci::use(old_id), soci::use(at), soci::use(quiet_before));
  revoke.execute(true);
  if (revoke.get_affected_rows() != 1) return false;  // gone, or used again meanwhile
  soci::statement finish =
      (sql->prepare << "UPDATE api_access_auto_rotations SET state = 'revoked_automatically', ended_at = :a, "
                       "ended_by_name = :n WHERE new_key_id = :k AND state = 'waiting' AND EXISTS "
                       "(SELECT 1 FROM api_access_keys k WHERE k.id = :k2 AND k.revoked_at IS NULL "
                       "AND (k.expires_at IS NULL OR k.expires_at > :a2))",
       soci::use(at), soci::use(actor), soci::use(new_id), soci::use(new_id), soci::use(at));
  finish.execute(true);
  if (finish.get_affected_rows() != 1) return false;  // cancelled or finished meanwhile: undo
  record_key_event(*sql, w.clinic_id, w.old_key_id, "revoked", w.old_label, w.old_preview,
                   Actor{0, kAutomaticRotationActor}, now, w.new_key_id,
                   "unused for " + duration_words(w.quiet_seconds) + " after the new key " + w.new_preview +
                       " started working");
  tx.commit();
  return true;
}

bool AutoRotationStore::close(KeyId new_key, const char* state, Micros now) {
  Lease sql(db_);
  long long id = new_key, at = now;
  std::string s = state;
  soci::statement st = (sql->prepare << "UPDATE api_access_auto_rotations SET state = :s, ended_at = :a "
                                        "WHERE new_key_id = :k AND state = 'waiting'",
                        soci::use(s), soci::use(at), soci::use(id));
  st.execute(true);
  return st.get_affected_rows() == 1;
}

AutoRotationStore::AdminOutcome AutoRotationStore::finish(host::ClinicId clinic, KeyId old_key, const Actor& by,
                                                          Micros now) {
  Lease sql(db_);
  WriteTransaction tx(*sql, db_.dialect());
  const auto name = key_name(*sql, clinic, old_key);
  if (!name) return AdminOutcome::no_such_key;
  long long old_id = old_key, c = clinic, at = now, by_id = by.id, new_id = 0;
  soci::indicator i_new = soci::i_null;
  *sql << "SELECT new_key_id FROM api_access_auto_rotations WHERE old_key_id = :o AND clinic_id = :c "
          "AND state = 'waiting'",
      soci::into(new_id, i_new), soci::use(old_id), soci::use(c);
  if (!sql->got_data() || i_new != soci::i_ok) return AdminOutcome::not_waiting;
  soci::statement end = (sql->prepare << "UPDATE api_access_auto_rotations SET state = 'finished', ended_at = :a, "
                                         "ended_by_id = :bi, ended_by_name = :bn "
                                         "WHERE new_key_id = :k AND state = 'waiting'",
                         soci::use(at), soci::use(by_id), soci::use(by.name), soci::use(new_id));
  end.execute(true);
  if (end.get_affected_rows() != 1) return AdminOutcome::not_waiting;
  soci::statement revoke = (sql->prepare << "UPDATE api_access_keys SET revoked_at = :a, revoked_by_id = :bi, "
                                            "revoked_by_name = :bn WHERE id = :o AND revoked_at IS NULL",
                            soci::use(at), soci::use(by_id), soci::use(by.name), soci::use(old_id));
  revoke.execute(true);
  if (revoke.get_affected_rows() == 1)
    record_key_event(*sql, clinic, old_key, "revoked", name->label, name->preview, by, now, new_id,
                     "finished the rotation by hand");
  tx.commit();
  return AdminOutcome::done;
}

AutoRotationStore::AdminOutcome AutoRotationStore::cancel(host::ClinicId clinic, KeyId old_key, const Actor& by,
                                                          Micros now) {
  Lease sql(db_);
  WriteTransaction tx(*sql, db_.dialect());
  const auto name = key_name(*sql, clinic, old_key);
  if (!name) return AdminOutcome::no_such_key;
  long long old_id = old_key, c = clinic, at = now, by_id = by.id;
  soci::statement end = (sql->prepare << "UPDATE api_access_auto_rotations SET state = 'cancelled', ended_at = :a, "
                                         "ended_by_id = :bi, ended_by_name = :bn "
                                         "WHERE old_key_id = :o AND clinic_id = :c AND state = 'waiting'",
                         soci::use(at), soci::use(by_id), soci::use(by.name), soci::use(old_id), soci::use(c));
  end.execute(true);
  if (end.get_affected_rows() != 1) return AdminOutcome::not_waiting;
  record_key_event(*sql, clinic, old_key, "updated", name->label, name->preview, by, now, std::nullopt,
                   "automatic revocation after the rotation cancelled: the key works until revoked by hand");
  tx.commit();
  return AdminOutcome::done;
}

}  // namespace mdp::api_access
