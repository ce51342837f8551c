#include "notify/notifier.hpp"

#include <map>

#include <soci/soci.h>

#include "util/db.hpp"

namespace mdp::api_access {

namespace {

constexpr std::size_t kIdsPerQuery = 200;  // bound on IN (...) lists
constexpr long long kPendingBatch = 100;

host::NotificationSeverity severity_from(const std::string& s) {
  if (s == "danger") return host::NotificationSeverity::danger;
  if (s == "warning") return host::NotificationSeverity::warning;
  return host::NotificationSeverity::info;
}

// The key the host dedupes on: unique across clinics (digest keys repeat per clinic).
std::string host_key(const Notice& n) { return "clinic/" + std::to_string(n.clinic_id) + "/" + n.notice_key; }

std::optional<Micros> opt(long long v, soci::indicator ind) {
  return ind == soci::i_ok ? std::optional<Micros>(v) : std::nullopt;
}

}  // namespace

void Notifier::tick(Micros now) noexcept {
  {
    std::lock_guard g(mutex_);
    if (last_check_ && now >= *last_check_ && now - *last_check_ < kCheckInterval) return;
  }
  try {
    check(now);
    if (failing_) log_.write(host::LogLevel::info, "notifications: checks work again");
    failing_ = false;
  } catch (const std::exception& e) {
    if (!failing_)
      log_.write(host::LogLevel::warning, std::string("notifications: check failed, retried next round: ") + e.what());
    failing_ = true;
  } catch (...) {
    failing_ = true;
  }
}

Notifier::Result Notifier::check(Micros now) {
  std::lock_guard g(mutex_);
  Result r;
  r.sent += resend_pending(now);
  const auto facts = load_facts(now);
  std::map<host::ClinicId, std::vector<KeyFacts>> by_clinic;
  for (const auto& k : facts) by_clinic[k.clinic_id].push_back(k);
  std::set<std::string> digest_keys;  // clinics in different zones may be in different weeks
  for (const auto& [clinic, keys] : by_clinic) digest_keys.insert(digest_key(keys.front().zone, now));
  const auto done = claimed_keys(facts, digest_keys);

  std::vector<Notice> due;
  for (const auto& k : facts)
    for (auto& n : key_notices(k, now))
      if (!done.count({n.clinic_id, n.notice_key})) due.push_back(std::move(n));
  for (const auto& [clinic, keys] : by_clinic) {
    const ClinicZone& zone = keys.front().zone;
    if (!done.count({clinic, digest_key(zone, now)}))
      if (auto d = weekly_digest(clinic, zone, keys, now)) due.push_back(std::move(*d));
  }

  for (const auto& n : due) {
    const auto row = claim(n, now);
    if (!row) continue;  // another check (a restart, another process) claimed it first
    ++r.claimed;
    if (send(*row, n, now)) ++r.sent;
  }
  last_check_ = now;
  return r;
}

std::vector<KeyFacts> Notifier::load_facts(Micros now) const {
  std::vector<KeyFacts> out;
  {
    Lease sql(db_);
    KeyFacts k;
    long long id = 0, clinic = 0, created = 0, last_used = 0, expires = 0, revoked = 0;
    int automatic = 0;
    std::string reason;
    soci::indicator lu_ind = soci::i_null, ex_ind = soci::i_null, rv_ind = soci::i_null, why_ind = soci::i_null;
    long long t = now, recent = now - kRevokedNoticeWindowDays * kMicrosPerDay;
    // Active keys, and keys revoked lately (their revocation may be news).
    soci::statement st =
        (sql->prepare << "SELECT id, clinic_id, label, preview, created_at, last_used_at, expires_at, revoked_at, "
                         "revoked_reason, CASE WHEN EXISTS (SELECT 1 FROM api_access_auto_rotations r "
                         "WHERE r.old_key_id = api_access_keys.id AND r.state = 'revoked_automatically') "
                         "THEN 1 ELSE 0 END "
                         "FROM api_access_keys WHERE (revoked_at IS NULL AND (expires_at IS NULL OR expires_at > :now)) "
                         "OR revoked_at > :recent ORDER BY id",
         soci::into(id), soci::into(clinic), soci::into(k.label), soci::into(k.preview), soci::into(created),
         soci::into(last_used, lu_ind), soci::into(expires, ex_ind), soci::into(revoked, rv_ind),
         soci::into(reason, why_ind), soci::into(automatic), soci::use(t),
         soci::use(recent));
    st.execute();
    while (st.fetch()) {
      k.id = id;
      k.clinic_id = clinic;
      k.created_at = created;
      k.last_used_at = opt(last_used, lu_ind);
      k.expires_at = opt(expires, ex_ind);
      k.revoked_at = opt(revoked, rv_ind);
      k.revoked_reason = why_ind == soci::i_ok ? reason : std::string();
      k.revoked_automatically = automatic != 0;
      out.push_back(k);
    }
  }
  // Each clinic's calendar, asked with no connection held (the host's directory may need one).
  std::map<host::ClinicId, std::optional<ClinicZone>> zones;  // one lookup per clinic per check
  std::vector<KeyFacts> known;
  known.reserve(out.size());
  for (auto& k : out) {
    auto z = zones.find(k.clinic_id);
    if (z == zones.end()) z = zones.emplace(k.clinic_id, zones_.find(k.clinic_id)).first;
    if (!z->second) continue;  // which day is it there? Unknown for now: checked next time
    k.zone = *z->second;
    known.push_back(std::move(k));
  }
  out = std::move(known);
  for (std::size_t i = 0; i < out.size(); i += kIdsPerQuery) {
    const std::size_t end = std::min(out.size(), i + kIdsPerQuery);
    // One query for the chunk, over the days of every clinic in it (their todays differ by a
    // day at most); each key then keeps its own clinic's last kFactsUsageDays.
    std::vector<KeyId> ids;
    DayNumber first = 0, last = 0;
    for (std::size_t j = i; j < end; ++j) {
      const DayNumber today = out[j].zone.day_of(now);
      first = j == i ? today : std::min(first, today);
      last = j == i ? today : std::max(last, today);
      if (!out[j].revoked_at) ids.push_back(out[j].id);
    }
    first -= kFactsUsageDays - 1;
    const auto usage = usage_.daily_for_keys(ids, first, last);
    for (std::size_t j = i; j < end; ++j) {
      const DayNumber today = out[j].zone.day_of(now);
      const auto it = usage.find(out[j].id);
      for (DayNumber d = today - (kFactsUsageDays - 1); d <= today; ++d)
        out[j].recent.push_back(it != usage.end() ? it->second.at(static_cast<std::size_t>(d - first))
                                                  : DayUsage{d, 0, 0, 0});
    }
  }
  return out;
}

std::set<std::pair<host::ClinicId, std::string>> Notifier::claimed_keys(const std::vector<KeyFacts>& keys,
                                                                        const std::set<std::string>& digest_keys) const {
  std::set<std::pair<host::ClinicId, std::string>> out;
  Lease sql(db_);
  long long clinic = 0;
  std::string key;
  for (std::string dk : digest_keys) {
    soci::statement st = (sql->prepare << "SELECT clinic_id, notice_key FROM api_access_notices WHERE notice_key = :k",
                          soci::into(clinic), soci::into(key), soci::use(dk));
    st.execute();
    while (st.fetch()) out.emplace(clinic, key);
  }
  for (std::size_t i = 0; i < keys.size(); i += kIdsPerQuery) {
    std::vector<long long> ids;
    for (std::size_t j = i; j < std::min(keys.size(), i + kIdsPerQuery); ++j) ids.push_back(keys[j].id);
    std::string in_list;
    for (std::size_t j = 0; j < ids.size(); ++j) in_list += (j ? ", :k" : ":k") + std::to_string(j);
    soci::statement st(*sql);
    st.exchange(soci::into(clinic));
    st.exchange(soci::into(key));
    for (auto& id : ids) st.exchange(soci::use(id));
    st.alloc();
    st.prepare("SELECT clinic_id, notice_key FROM api_access_notices WHERE key_id IN (" + in_list + ")");
    st.define_and_bind();
    st.execute();
    while (st.fetch()) out.emplace(clinic, key);
  }
  return out;
}

std::optional<std::int64_t> Notifier::claim(const Notice& n, Micros now) {
  Lease sql(db_);
  long long clinic = n.clinic_id, key_id = n.key_id.value_or(0), at = now, id = 0;
  soci::indicator key_ind = n.key_id ? soci::i_ok : soci::i_null;
  std::string severity = severity_name(n.severity);
  soci::statement st =
      (sql->prepare << "INSERT INTO api_access_notices (clinic_id, key_id, notice_key, cause, severity, subject, body, "
                       "link, created_at) VALUES (:c, :k, :n, :cause, :s, :subj, :b, :l, :a) "
                       "ON CONFLICT (clinic_id, notice_key) DO NOTHING",
       soci::use(clinic), soci::use(key_id, key_ind), soci::use(n.notice_key), soci::use(n.cause),
       soci::use(severity), soci::use(n.subject), soci::use(n.body), soci::use(n.link), soci::use(at));
  st.execute(true);
  if (st.get_affected_rows() == 0) return std::nullopt;
  *sql << "SELECT id FROM api_access_notices WHERE clinic_id = :c AND notice_key = :n", soci::into(id),
      soci::use(clinic), soci::use(n.notice_key);
  return id;
}

bool Notifier::send(std::int64_t row, const Notice& n, Micros now) {
  host::Notification msg;
  msg.clinic_id = n.clinic_id;
  msg.key = host_key(n);
  msg.subject = n.subject;
  msg.body = n.body;
  msg.link = n.link;
  msg.severity = n.severity;
  const host::NotifyResult r = out_.notify(msg);
  if (r == host::NotifyResult::unavailable) return false;  // stays pending: the next check sends it
  if (r == host::NotifyResult::rejected)
    log_.write(host::LogLevel::warning, "notifications: the host rejected " + n.notice_key + "; not sent again");
  Lease sql(db_);
  long long id = row, at = now;
  std::string outcome = r == host::NotifyResult::accepted ? "accepted" : "rejected";
  *sql << "UPDATE api_access_notices SET sent_at = :a, outcome = :o WHERE id = :i", soci::use(at), soci::use(outcome),
      soci::use(id);
  return r == host::NotifyResult::accepted;
}

std::size_t Notifier::resend_pending(Micros now) {
  std::vector<std::pair<std::int64_t, Notice>> pending;
  {
    Lease sql(db_);
    // Only rows claimed a check interval ago or earlier: a row claimed just now is being sent
    // by the process that claimed it, and sending it here too would be a second call.
    long long id = 0, clinic = 0, lim = kPendingBatch, claimed_by = now - kCheckInterval;
    Notice n;
    std::string severity;
    soci::statement st = (sql->prepare << "SELECT id, clinic_id, notice_key, severity, subject, body, link "
                                          "FROM api_access_notices WHERE sent_at IS NULL AND created_at <= :c "
                                          "ORDER BY id LIMIT :n",
                          soci::into(id), soci::into(clinic), soci::into(n.notice_key), soci::into(severity),
                          soci::into(n.subject), soci::into(n.body), soci::into(n.link), soci::use(claimed_by),
                          soci::use(lim));
    st.execute();
    while (st.fetch()) {
      n.clinic_id = clinic;
      n.severity = severity_from(severity);
      pending.emplace_back(id, n);
    }
  }
  std::size_t sent = 0;
  for (const auto& [id, n] : pending)
    if (send(id, n, now)) ++sent;
  return sent;
}

}  // namespace mdp::api_access
