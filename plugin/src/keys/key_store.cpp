#include "keys/key_store.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>

#include <soci/soci.h>

#include "keys/key_state_row.hpp"
#include "util/db.hpp"

namespace mdp::api_access {

namespace {

constexpr const char* kKeyColumns =
    "id, clinic_id, label, scopes, preview, created_by_id, created_by_name, created_at, "
    "last_used_at, expires_at, revoked_at, revoked_by_id, revoked_by_name, rotated_from, "
    "description, rate_limit_requests, rate_limit_per_seconds, allowed_ips, last_used_address, "
    "last_used_agent, revoked_reason, leak_url, leak_source";

// One row of api_access_keys, bound by into() in kKeyColumns order.
struct KeyRow {
  long long id = 0, clinic_id = 0, created_by_id = 0, created_at = 0;
  long long last_used_at = 0, expires_at = 0, revoked_at = 0, revoked_by_id = 0, rotated_from = 0;
  long long rate_requests = 0, rate_seconds = 0;
  std::string label, scopes, preview, created_by_name, revoked_by_name;
  std::string description, allowed_ips, last_address, last_agent, revoked_reason, leak_url,
      leak_source;
  soci::indicator i_last = soci::i_null, i_exp = soci::i_null, i_rev = soci::i_null,
                  i_rev_by = soci::i_null, i_rev_name = soci::i_null, i_rot = soci::i_null,
                  i_desc = soci::i_null, i_rate_req = soci::i_null, i_rate_sec = soci::i_null,
                  i_allowed = soci::i_null, i_last_addr = soci::i_null,
                  i_last_agent = soci::i_null, i_reason = soci::i_null,
                  i_leak_url = soci::i_null, i_leak_source = soci::i_null;

  void bind(soci::statement& st) {
    st.exchange(soci::into(id));
    st.exchange(soci::into(clinic_id));
    st.exchange(soci::into(label));
    st.exchange(soci::into(scopes));
    st.exchange(soci::into(preview));
    st.exchange(soci::into(created_by_id));
    st.exchange(soci::into(created_by_name));
    st.exchange(soci::into(created_at));
    st.exchange(soci::into(last_used_at, i_last));
    st.exchange(soci::into(expires_at, i_exp));
    st.exchange(soci::into(revoked_at, i_rev));
    st.exchange(soci::into(revoked_by_id, i_rev_by));
    st.exchange(soci::into(revoked_by_name, i_rev_name));
    st.exchange(soci::into(rotated_from, i_rot));
    st.exchange(soci::into(description, i_desc));
    st.exchange(soci::into(rate_requests, i_rate_req));
    st.exchange(soci::into(rate_seconds, i_rate_sec));
    st.exchange(soci::into(allowed_ips, i_allowed));
    st.exchange(soci::into(last_address, i_last_addr));
    st.exchange(soci::into(last_agent, i_last_agent));
    st.exchange(soci::into(revoked_reason, i_reason));
    st.exchange(soci::into(leak_url, i_leak_url));
    st.exchange(soci::into(leak_source, i_leak_source));
  }

  // Before each fetch of a multi-row statement: a NULL column must not inherit the last row's
  // indicator.
  void reset() {
    i_last = i_exp = i_rev = i_rev_by = i_rev_name = i_rot = i_desc = i_rate_req = i_rate_sec =
        i_allowed = i_last_addr = i_last_agent = i_reason = i_leak_url = i_leak_source =
            soci::i_null;
  }

  KeyRecord record() const {
    auto text = [](soci::indicator i, const std::string& v) {
      return i == soci::i_ok ? v : std::string();
    };
    KeyRecord r;
    r.id = id;
    r.clinic_id = clinic_id;
    r.label = label;
    r.scopes = split_scopes(scopes);
    r.preview = preview;
    r.created_by = Actor{created_by_id, created_by_name};
    r.created_at = created_at;
    if (i_last == soci::i_ok) r.last_used_at = last_used_at;
    if (i_exp == soci::i_ok) r.expires_at = expires_at;
    if (i_rev == soci::i_ok) r.revoked_at = revoked_at;
    if (i_rev_by == soci::i_ok)
      r.revoked_by = Actor{revoked_by_id, i_rev_name == soci::i_ok ? revoked_by_name : ""};
    else if (i_rev_name == soci::i_ok)
      r.revoked_by = Actor{0, revoked_by_name};  // not a user, e.g. "automatic rotation"
    if (i_rot == soci::i_ok) r.rotated_from = rotated_from;
    r.description = text(i_desc, description);
    r.rate_limit = KeyStateRow::rate_limit_of(i_rate_req == soci::i_ok, rate_requests,
                                              i_rate_sec == soci::i_ok, rate_seconds);
    r.allowed_ips = AddressFilter::from_stored(text(i_allowed, allowed_ips)).to_strings();
    if (i_last_addr == soci::i_ok) r.last_used_address = last_address;
    if (i_last_agent == soci::i_ok) r.last_used_agent = last_agent;
    if (i_reason == soci::i_ok) r.revoked_reason = revoked_reason;
    r.leak_url = text(i_leak_url, leak_url);
    r.leak_source = text(i_leak_source, leak_source);
    return r;
  }
};

// `for_update`: on PostgreSQL the row stays locked until the transaction ends, so two
// read-check-write transactions on one key take turns (SQLite's BEGIN IMMEDIATE already does).
std::optional<KeyRecord> select_key(soci::session& sql, long long clinic, long long id,
                                    bool for_update = false) {
  KeyRow row;
  soci::statement st(sql);
  row.bind(st);
  st.exchange(soci::use(id));
  st.exchange(soci::use(clinic));
  st.alloc();
  st.prepare(std::string("SELECT ") + kKeyColumns +
             " FROM api_access_keys WHERE id = :id AND clinic_id = :clinic" +
             (for_update && sql.get_backend_name() == "postgresql" ? " FOR UPDATE" : ""));
  st.define_and_bind();
  if (!st.execute(true)) return std::nullopt;
  return row.record();
}

void insert_event(soci::session& sql, long long clinic, long long key_id, const std::string& type,
                  const std::string& label, const std::string& preview,
                  const std::optional<Actor>& actor, long long at,
                  std::optional<long long> related, const std::string& detail = {}) {
  long long actor_id = actor ? actor->id : 0;
  std::string actor_name = actor ? actor->name : std::string();
  // An actor that is not a user (id 0, e.g. "leak report") keeps its name with a NULL id.
  soci::indicator i_actor = actor && actor->id != 0 ? soci::i_ok : soci::i_null;
  soci::indicator i_actor_name = actor ? soci::i_ok : soci::i_null;
  long long rel = related.value_or(0);
  soci::indicator i_rel = related ? soci::i_ok : soci::i_null;
  sql << "INSERT INTO api_access_events (clinic_id, key_id, type, label, preview, actor_id, "
         "actor_name, at, related_key_id, detail) "
         "VALUES (:c, :k, :t, :l, :p, :ai, :an, :at, :r, :d)",
      soci::use(clinic), soci::use(key_id), soci::use(type), soci::use(label), soci::use(preview),
      soci::use(actor_id, i_actor), soci::use(actor_name, i_actor_name), soci::use(at),
      soci::use(rel, i_rel), soci::use(detail);
}

long long insert_key(soci::session& sql, const NewKey& k, std::optional<KeyId> rotated_from) {
  long long clinic = k.clinic_id, by_id = k.created_by.id, created = k.created_at;
  long long expires = k.expires_at.value_or(0), from = rotated_from.value_or(0);
  soci::indicator i_exp = k.expires_at ? soci::i_ok : soci::i_null;
  soci::indicator i_from = rotated_from ? soci::i_ok : soci::i_null;
  const std::string scopes = join_scopes(k.scopes);
  const std::string allowed = k.allowed.to_stored();
  long long rate_req = k.rate_limit ? k.rate_limit->requests : 0;
  long long rate_sec = k.rate_limit ? k.rate_limit->per_seconds : 0;
  soci::indicator i_rate = k.rate_limit ? soci::i_ok : soci::i_null;
  soci::indicator i_rate2 = i_rate;
  long long id = 0;
  // RETURNING works on PostgreSQL and on SQLite >= 3.35 (Debian 12 ships 3.40).
  sql << "INSERT INTO api_access_keys (clinic_id, label, scopes, key_hash, preview, created_by_id, "
         "created_by_name, created_at, expires_at, rotated_from, description, allowed_ips, "
         "rate_limit_requests, rate_limit_per_seconds) "
         "VALUES (:c, :l, :s, :h, :p, :bi, :bn, :ca, :e, :rf, :d, :ips, :rr, :rs) RETURNING id",
      soci::use(clinic), soci::use(k.label), soci::use(scopes), soci::use(k.key_hash),
      soci::use(k.preview), soci::use(by_id), soci::use(k.created_by.name), soci::use(created),
      soci::use(expires, i_exp), soci::use(from, i_from), soci::use(k.description),
      soci::use(allowed), soci::use(rate_req, i_rate), soci::use(rate_sec, i_rate2),
      soci::into(id);
  return id;
}

}  // namespace

std::vector<KeyRecord> KeyStore::list(host::ClinicId clinic_id) const {
  Lease sql(db_);
  long long clinic = clinic_id;
  KeyRow row;
  soci::statement st(*sql);
  row.bind(st);
  st.exchange(soci::use(clinic));
  st.alloc();
  st.prepare(std::string("SELECT ") + kKeyColumns +
             " FROM api_access_keys WHERE clinic_id = :clinic ORDER BY created_at DESC, id DESC");
  st.define_and_bind();
  std::vector<KeyRecord> out;
  st.execute();
  while (st.fetch()) {
    out.push_back(row.record());
    row.reset();
  }
  return out;
}

namespace {

// "%" and "_" are wildcards in LIKE: a search for "50%_off" means those characters.
std::string like_pattern(const std::string& search) {
  std::string p = "%";
  for (char c : search) {
    if (c == '%' || c == '_' || c == '!') p += '!';
    p += c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  }
  return p + "%";
}

// The WHERE clause of a filter; `?` placeholders in order, their values appended to `args`.
// Same SQL on SQLite and PostgreSQL.
std::string filter_sql(KeyFilter f, const FilterTimes& t, std::vector<long long>& args) {
  const char* active = "k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > :t)";
  switch (f) {
    case KeyFilter::all: return "";
    case KeyFilter::current: return " AND k.revoked_at IS NULL";
    case KeyFilter::revoked: return " AND k.revoked_at IS NOT NULL";
    case KeyFilter::active: args.push_back(t.now); return std::string(" AND ") + active;
    case KeyFilter::expired:
      args.push_back(t.now);
      return " AND k.revoked_at IS NULL AND k.expires_at <= :t";
    case KeyFilter::expiring_soon:
      args.insert(args.end(), {t.now, t.expiring_before});
      return std::string(" AND ") + active + " AND k.expires_at <= :t";
    case KeyFilter::rotation_due:
      args.insert(args.end(), {t.now, t.created_before});
      return std::string(" AND ") + active + " AND k.created_at <= :t";
    case KeyFilter::unused:
      args.insert(args.end(), {t.now, t.quiet_before});
      return std::string(" AND ") + active + " AND COALESCE(k.last_used_at, k.created_at) <= :t";
  }
  return "";
}

const char* order_sql(KeySort s) {
  switch (s) {
    case KeySort::newest: return " ORDER BY k.created_at DESC, k.id DESC";
    case KeySort::oldest: return " ORDER BY k.created_at ASC, k.id ASC";
    case KeySort::label: return " ORDER BY lower(k.label) ASC, k.id DESC";
    case KeySort::last_used: return " ORDER BY k.last_used_at IS NULL, k.last_used_at DESC, k.id DESC";
    case KeySort::expires: return " ORDER BY k.expires_at IS NULL, k.expires_at ASC, k.id DESC";
  }
  return " ORDER BY k.created_at DESC, k.id DESC";
}

// SOCI binds named placeholders in order of appearance: give each ":t" its own name.
std::string number_placeholders(const std::string& sql) {
  std::string out;
  int n = 0;
  for (std::size_t i = 0; i < sql.size(); ++i) {
    if (sql[i] == ':' && i + 1 < sql.size() && sql[i + 1] == 't' &&
        (i + 2 == sql.size() || !std::isalnum(static_cast<unsigned char>(sql[i + 2])))) {
      out += ":t" + std::to_string(++n);
      ++i;
    } else {
      out += sql[i];
    }
  }
  return out;
}

}  // namespace

KeyPage KeyStore::query(host::ClinicId clinic_id, const KeyQuery& q, Micros now) const {
  Lease sql(db_);
  long long clinic = clinic_id;
  std::vector<long long> args;
  std::string where = " FROM api_access_keys k WHERE k.clinic_id = :clinic" +
                      filter_sql(q.filter, FilterTimes::at(now), args);
  std::string pattern;
  if (!q.search.empty()) {
    pattern = like_pattern(q.search);
    where += " AND (lower(k.label) LIKE :pattern ESCAPE '!' OR lower(k.preview) LIKE :pattern2 ESCAPE '!')";
  }
  where = number_placeholders(where);
  auto bind_where = [&](soci::statement& st) {
    st.exchange(soci::use(clinic));
    for (auto& a : args) st.exchange(soci::use(a));
    if (!pattern.empty()) {
      st.exchange(soci::use(pattern));
      st.exchange(soci::use(pattern));
    }
  };

  KeyPage page;
  {
    long long total = 0;
    soci::statement st(*sql);
    st.exchange(soci::into(total));
    bind_where(st);
    st.alloc();
    st.prepare("SELECT COUNT(*)" + where);
    st.define_and_bind();
    st.execute(true);
    page.total = static_cast<std::size_t>(total);
  }
  if (page.total == 0 || q.offset() >= page.total) return page;

  std::string columns;
  for (const char* c = kKeyColumns; *c;) {  // "id, clinic_id, ..." -> "k.id, k.clinic_id, ..."
    const char* end = std::strchr(c, ',');
    columns += "k.";
    columns.append(c, end ? end - c : std::strlen(c));
    if (!end) break;
    columns += ", ";
    c = end + 2;
  }
  std::string text = "SELECT " + columns +
                     ", (SELECT r.preview FROM api_access_keys r WHERE r.rotated_from = k.id "
                     "ORDER BY r.id DESC LIMIT 1)" +
                     where + order_sql(q.sort);
  long long limit = q.per_page ? static_cast<long long>(*q.per_page) : -1;
  long long offset = static_cast<long long>(q.offset());
  if (q.per_page) text += " LIMIT :limit OFFSET :offset";
  KeyRow row;
  std::string replaced_by;
  soci::indicator i_replaced = soci::i_null;
  soci::statement st(*sql);
  row.bind(st);
  st.exchange(soci::into(replaced_by, i_replaced));
  bind_where(st);
  if (q.per_page) {
    st.exchange(soci::use(limit));
    st.exchange(soci::use(offset));
  }
  st.alloc();
  st.prepare(text);
  st.define_and_bind();
  st.execute();
  while (st.fetch()) {
    page.keys.push_back(row.record());
    if (i_replaced == soci::i_ok) page.replaced_by[row.id] = replaced_by;
    row.reset();
    i_replaced = soci::i_null;
  }
  return page;
}

std::optional<KeyRecord> KeyStore::get(host::ClinicId clinic, KeyId id) const {
  Lease sql(db_);
  return select_key(*sql, clinic, id);
}

KeyRecord KeyStore::create(const NewKey& k) {
  Lease sql(db_);
  WriteTransaction tx(*sql, db_.dialect());
  const long long id = insert_key(*sql, k, std::nullopt);
  insert_event(*sql, k.clinic_id, id, "created", k.label, k.preview, k.created_by, k.created_at,
               std::nullopt);
  tx.commit();
  auto rec = select_key(*sql, k.clinic_id, id);
  if (!rec) throw std::runtime_error("inserted key not found");
  return *rec;
}

std::optional<std::pair<KeyRecord, KeyRecord>> KeyStore::rotate(
    KeyId old_id, NewKey nk, std::optional<Micros> old_expires_at, const RotateAlso& also) {
  Lease sql(db_);
  WriteTransaction tx(*sql, db_.dialect());
  auto old = select_key(*sql, nk.clinic_id, old_id);
  if (!old) return std::nullopt;
  nk.label = old->label;
  nk.scopes = old->scopes;
  nk.description = old->description;
  nk.rate_limit = old->rate_limit;
  const long long id = insert_key(*sql, nk, old->id);
  {
    // The address list is copied as stored, not through KeyRecord: a stored list that no longer
    // parses allows nothing (AddressFilter::from_stored), and the new key must not allow more.
    long long nid = id, oid = old->id;
    sql->once << "UPDATE api_access_keys SET allowed_ips = "
                 "(SELECT o.allowed_ips FROM api_access_keys o WHERE o.id = :old) WHERE id = :id",
        soci::use(oid), soci::use(nid);
  }
  insert_event(*sql, nk.clinic_id, id, "rotated", nk.label, nk.preview, nk.created_by,
               nk.created_at, old->id, also.detail);
  if (also.in_transaction) also.in_transaction(*sql, *old, id);
  // The grace period only ever shortens the old key's life: a revoked key stays revoked and an
  // earlier expiry stays.
  if (old_expires_at && !old->revoked_at && (!old->expires_at || *old->expires_at > *old_expires_at)) {
    long long until = *old_expires_at, oid = old->id;
    sql->once << "UPDATE api_access_keys SET expires_at = :e WHERE id = :id", soci::use(until),
        soci::use(oid);  // the database's trigger records the change (sql/*/0002)
  }
  tx.commit();
  auto fresh_old = select_key(*sql, nk.clinic_id, old->id);
  auto fresh_new = select_key(*sql, nk.clinic_id, id);
  if (!fresh_old || !fresh_new) throw std::runtime_error("rotated key not found");
  return std::make_pair(std::move(*fresh_new), std::move(*fresh_old));
}

LeakOutcome KeyStore::revoke_leaked(const std::string& key_hash, const std::string& url,
                                    const std::string& source, Micros now) {
  Lease sql(db_);
  LeakOutcome out;
  {
    WriteTransaction tx(*sql, db_.dialect());
    long long id = 0, clinic = 0;
    *sql << "SELECT id, clinic_id FROM api_access_keys WHERE key_hash = :h", soci::into(id),
        soci::into(clinic), soci::use(key_hash);
    if (!sql->got_data()) return out;  // unknown
    auto rec = select_key(*sql, clinic, id, true);
    if (!rec || rec->status_at(now) != KeyStatus::active) {
      out.status = LeakOutcome::Status::not_active;
      return out;
    }
    long long at = now;
    const std::string by = "leak report";
    soci::indicator i_url = url.empty() ? soci::i_null : soci::i_ok;
    soci::indicator i_source = source.empty() ? soci::i_null : soci::i_ok;
    soci::statement st =
        (sql->prepare << "UPDATE api_access_keys SET revoked_at = :at, revoked_by_id = NULL, "
                         "revoked_by_name = :bn, revoked_reason = 'leak_report', leak_url = :u, "
                         "leak_source = :s WHERE id = :id AND revoked_at IS NULL",
         soci::use(at), soci::use(by), soci::use(url, i_url), soci::use(source, i_source), soci::use(id));
    st.execute(true);
    if (st.get_affected_rows() != 1) {  // another report (or an admin) revoked it first
      out.status = LeakOutcome::Status::not_active;
      return out;
    }
    std::string detail = "reported as leaked";
    if (!url.empty()) detail += " at " + url;
    if (!source.empty()) detail += " (source: " + source + ")";
    insert_event(*sql, clinic, id, "revoked", rec->label, rec->preview, Actor{0, by}, now,
                 std::nullopt, detail);
    tx.commit();
    out.status = LeakOutcome::Status::revoked;
    out.key = select_key(*sql, clinic, id);
  }
  return out;
}

std::optional<KeyRecord> KeyStore::revoke(host::ClinicId clinic, KeyId id, const Actor& by,
                                          Micros now) {
  Lease sql(db_);
  {
    WriteTransaction tx(*sql, db_.dialect());
    auto rec = select_key(*sql, clinic, id);
    if (!rec) return std::nullopt;
    if (!rec->revoked_at) {
      long long at = now, by_id = by.id, kid = id;
      soci::statement st =
          (sql->prepare << "UPDATE api_access_keys SET revoked_at = :at, revoked_by_id = :bi, "
                           "revoked_by_name = :bn WHERE id = :id AND revoked_at IS NULL",
           soci::use(at), soci::use(by_id), soci::use(by.name), soci::use(kid));
      st.execute(true);
      // Another process may have won the race between our SELECT and UPDATE (PostgreSQL):
      // only the process whose UPDATE changed the row records the event.
      if (st.get_affected_rows() == 1) {
        // The change feed row is written by the database's trigger (sql/*/0002).
        insert_event(*sql, clinic, id, "revoked", rec->label, rec->preview, by, now, std::nullopt);
      }
    }
    tx.commit();
  }
  return select_key(*sql, clinic, id);
}

namespace {

std::string quoted(const std::string& s) { return "\"" + s + "\""; }

std::string rate_text(const std::optional<RateLimit>& r) {
  if (!r) return "plan default";
  return std::to_string(r->requests) + " per " + std::to_string(r->per_seconds) + " s";
}

std::string list_text(const std::vector<std::string>& v, const char* empty) {
  if (v.empty()) return empty;
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

}  // namespace

UpdateResult KeyStore::update(host::ClinicId clinic, KeyId id, const KeyUpdate& u, const Actor& by,
                              Micros now) {
  Lease sql(db_);
  UpdateResult result;
  {
    WriteTransaction tx(*sql, db_.dialect());
    auto rec = select_key(*sql, clinic, id, /*for_update=*/true);
    if (!rec) return result;  // not_found
    if (u.changes_rules() && rec->revoked_at) {
      result.outcome = UpdateResult::Outcome::revoked;
      result.key = std::move(rec);
      return result;
    }
    if (u.scopes)
      for (const auto& s : *u.scopes)
        if (std::find(rec->scopes.begin(), rec->scopes.end(), s) == rec->scopes.end()) {
          result.outcome = UpdateResult::Outcome::scope_widening;
          result.detail = s;
          result.key = std::move(rec);
          return result;
        }

    KeyRecord next = *rec;
    std::vector<std::string> changed;
    if (u.label && *u.label != rec->label) {
      changed.push_back("label: " + quoted(rec->label) + " -> " + quoted(*u.label));
      next.label = *u.label;
    }
    if (u.description && *u.description != rec->description) {
      changed.push_back(u.description->empty() ? "description removed" : "description changed");
      next.description = *u.description;
    }
    if (u.scopes) {
      // Kept in the key's own order, so an unchanged set compares equal.
      std::vector<std::string> kept;
      for (const auto& s : rec->scopes)
        if (std::find(u.scopes->begin(), u.scopes->end(), s) != u.scopes->end()) kept.push_back(s);
      if (kept != rec->scopes) {
        changed.push_back("scopes: " + join_scopes(rec->scopes) + " -> " + join_scopes(kept));
        next.scopes = std::move(kept);
      }
    }
    if (u.rate_limit && *u.rate_limit != rec->rate_limit) {
      changed.push_back("rate limit: " + rate_text(rec->rate_limit) + " -> " + rate_text(*u.rate_limit));
      next.rate_limit = *u.rate_limit;
    }
    if (u.allowed && u.allowed->to_strings() != rec->allowed_ips) {
      changed.push_back("allowed addresses: " + list_text(rec->allowed_ips, "anywhere") + " -> " +
                        list_text(u.allowed->to_strings(), "anywhere"));
      next.allowed_ips = u.allowed->to_strings();
    }
    if (!changed.empty()) {
      const std::string scopes = join_scopes(next.scopes);
      // Only a changed list is written: an edit of the label must never rewrite the stored list
      // (one that no longer parses allows nothing, and must not turn into "anywhere").
      const bool allowed_changed = next.allowed_ips != rec->allowed_ips;
      const std::string allowed = allowed_changed ? u.allowed->to_stored() : std::string();
      soci::indicator i_allowed = allowed_changed ? soci::i_ok : soci::i_null;
      long long rate_req = next.rate_limit ? next.rate_limit->requests : 0;
      long long rate_sec = next.rate_limit ? next.rate_limit->per_seconds : 0;
      soci::indicator i_rate = next.rate_limit ? soci::i_ok : soci::i_null, i_rate2 = i_rate;
      long long kid = id;
      // The database's trigger records scope, address and rate-limit changes in the change feed
      // (sql/*/0003), so every host process refreshes what its request hook enforces.
      sql->once << "UPDATE api_access_keys SET label = :l, description = :d, scopes = :s, "
                   "allowed_ips = COALESCE(:ips, allowed_ips), rate_limit_requests = :rr, "
                   "rate_limit_per_seconds = :rs WHERE id = :id",
          soci::use(next.label), soci::use(next.description), soci::use(scopes),
          soci::use(allowed, i_allowed), soci::use(rate_req, i_rate), soci::use(rate_sec, i_rate2),
          soci::use(kid);
      for (const auto& c : changed) result.detail += (result.detail.empty() ? "" : "; ") + c;
      insert_event(*sql, clinic, id, "updated", next.label, next.preview, by, now, std::nullopt,
                   result.detail);
    }
    tx.commit();
  }
  result.outcome = UpdateResult::Outcome::updated;
  result.key = select_key(*sql, clinic, id);
  if (!result.key) result.outcome = UpdateResult::Outcome::not_found;  // deleted meanwhile
  return result;
}

std::vector<KeyEvent> KeyStore::events(host::ClinicId clinic_id, std::size_t limit,
                                       std::optional<KeyId> key, std::size_t offset) const {
  Lease sql(db_);
  long long clinic = clinic_id, lim = static_cast<long long>(limit), off = static_cast<long long>(offset);
  long long kid = key.value_or(0);
  long long id = 0, key_id = 0, actor_id = 0, at = 0, related = 0;
  std::string type, label, preview, actor_name, detail;
  soci::indicator i_actor = soci::i_null, i_actor_name = soci::i_null, i_rel = soci::i_null;
  soci::statement st(*sql);
  for (auto* into : {&id, &key_id}) st.exchange(soci::into(*into));
  st.exchange(soci::into(type));
  st.exchange(soci::into(label));
  st.exchange(soci::into(preview));
  st.exchange(soci::into(actor_id, i_actor));
  st.exchange(soci::into(actor_name, i_actor_name));
  st.exchange(soci::into(at));
  st.exchange(soci::into(related, i_rel));
  st.exchange(soci::into(detail));
  st.exchange(soci::use(clinic));
  if (key) {
    st.exchange(soci::use(kid));
    st.exchange(soci::use(kid));
  }
  st.exchange(soci::use(lim));
  st.exchange(soci::use(off));
  st.alloc();
  st.prepare(std::string("SELECT id, key_id, type, label, preview, actor_id, actor_name, at, "
                         "related_key_id, detail FROM api_access_events WHERE clinic_id = :c") +
             (key ? " AND (key_id = :k OR related_key_id = :k2)" : "") +
             " ORDER BY at DESC, id DESC LIMIT :lim OFFSET :off");
  st.define_and_bind();
  st.execute();
  std::vector<KeyEvent> out;
  while (st.fetch()) {
    KeyEvent ev;
    ev.id = id;
    ev.clinic_id = clinic;
    ev.key_id = key_id;
    ev.type = type;
    ev.label = label;
    ev.preview = preview;
    if (i_actor == soci::i_ok)
      ev.actor = Actor{actor_id, i_actor_name == soci::i_ok ? actor_name : ""};
    else if (i_actor_name == soci::i_ok)
      ev.actor = Actor{0, actor_name};  // not a user, e.g. "leak report"
    ev.detail = detail;
    ev.at = at;
    if (i_rel == soci::i_ok) ev.related_key_id = related;
    out.push_back(std::move(ev));
    i_actor = i_actor_name = i_rel = soci::i_null;
  }
  return out;
}

std::size_t KeyStore::count_events(host::ClinicId clinic_id, std::optional<KeyId> key) const {
  Lease sql(db_);
  long long clinic = clinic_id, kid = key.value_or(0), n = 0;
  if (key)
    *sql << "SELECT COUNT(*) FROM api_access_events WHERE clinic_id = :c AND "
            "(key_id = :k OR related_key_id = :k2)",
        soci::into(n), soci::use(clinic), soci::use(kid), soci::use(kid);
  else
    *sql << "SELECT COUNT(*) FROM api_access_events WHERE clinic_id = :c", soci::into(n), soci::use(clinic);
  return static_cast<std::size_t>(n);
}

std::size_t KeyStore::sweep_expired(Micros now_us) {
  std::lock_guard guard(sweep_mutex_);
  Lease sql(db_);
  struct Due {
    long long id, clinic, expires;
    std::string label, preview;
  };
  std::vector<Due> due;
  {
    long long now = now_us, id = 0, clinic = 0, expires = 0;
    std::string label, preview;
    soci::statement st =
        (sql->prepare << "SELECT k.id, k.clinic_id, k.label, k.preview, k.expires_at "
                         "FROM api_access_keys k "
                         "WHERE k.expires_at IS NOT NULL AND k.expires_at <= :now "
                         "AND (k.revoked_at IS NULL OR k.revoked_at > k.expires_at) "
                         "AND NOT EXISTS (SELECT 1 FROM api_access_events e "
                         "WHERE e.key_id = k.id AND e.type = 'expired') ORDER BY k.expires_at",
         soci::into(id), soci::into(clinic), soci::into(label), soci::into(preview),
         soci::into(expires), soci::use(now));
    st.execute();
    while (st.fetch()) due.push_back({id, clinic, expires, label, preview});
  }
  if (due.empty()) return 0;
  WriteTransaction tx(*sql, db_.dialect());
  for (const auto& d : due)
    insert_event(*sql, d.clinic, d.id, "expired", d.label, d.preview, std::nullopt, d.expires,
                 std::nullopt);
  tx.commit();
  return due.size();
}

std::optional<KeyState> KeyStore::state(KeyId key_id) const {
  Lease sql(db_);
  long long id = key_id;
  KeyStateRow row;
  soci::statement st(*sql);
  row.bind(st);
  st.exchange(soci::use(id));
  st.alloc();
  st.prepare(std::string("SELECT ") + KeyStateRow::kColumns + " FROM api_access_keys WHERE id = :id");
  st.define_and_bind();
  if (!st.execute(true)) return std::nullopt;
  KeyState s;
  if (row.is_revoked()) s.revoked_at = row.revoked;
  s.expires_at = row.expires_at();
  s.rules = row.rules();
  return s;
}

std::int64_t KeyStore::latest_change() const {
  Lease sql(db_);
  long long id = 0;
  soci::indicator ind = soci::i_null;
  *sql << "SELECT MAX(id) FROM api_access_key_changes", soci::into(id, ind);
  return ind == soci::i_ok ? id : 0;
}

std::vector<std::pair<std::int64_t, KeyId>> KeyStore::changes_after(std::int64_t after,
                                                                    std::size_t limit) const {
  Lease sql(db_);
  long long from = after, lim = static_cast<long long>(limit), id = 0, key_id = 0;
  soci::statement st =
      (sql->prepare << "SELECT id, key_id FROM api_access_key_changes WHERE id > :a "
                       "ORDER BY id LIMIT :lim",
       soci::into(id), soci::into(key_id), soci::use(from), soci::use(lim));
  st.execute();
  std::vector<std::pair<std::int64_t, KeyId>> out;
  while (st.fetch()) out.emplace_back(id, key_id);
  return out;
}

void KeyStore::trim_changes(std::int64_t keep) {
  Lease sql(db_);
  long long k = keep;
  *sql << "DELETE FROM api_access_key_changes WHERE id <= "
          "(SELECT MAX(id) FROM api_access_key_changes) - :keep",
      soci::use(k);
}

void record_key_event(soci::session& sql, host::ClinicId clinic, KeyId key_id, const std::string& type,
                      const std::string& label, const std::string& preview, const std::optional<Actor>& actor,
                      Micros at, std::optional<KeyId> related, const std::string& detail) {
  insert_event(sql, clinic, key_id, type, label, preview, actor, at,
               related ? std::optional<long long>(*related) : std::nullopt, detail);
}

}  // namespace mdp::api_access
