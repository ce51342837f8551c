#include "usage/usage_store.hpp"

#include <chrono>

#include <soci/soci.h>

#include "util/db.hpp"

namespace mdp::api_access {

namespace {
// "YYYY-MM-DD" back to a day number; the column only ever holds format_date() output.
DayNumber parse_date(const std::string& s) {
  const int y = std::stoi(s.substr(0, 4));
  const unsigned m = static_cast<unsigned>(std::stoi(s.substr(5, 2)));
  const unsigned d = static_cast<unsigned>(std::stoi(s.substr(8, 2)));
  const std::chrono::sys_days days{std::chrono::year{y} / std::chrono::month{m} / std::chrono::day{d}};
  return static_cast<DayNumber>(days.time_since_epoch().count());
}

// Batch bookkeeping uses the real clock, not the host's (a test clock may jump days).
long long wall_clock_micros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::vector<DayUsage> dense(DayNumber from, DayNumber to) {
  std::vector<DayUsage> out;
  if (to < from) return out;
  out.reserve(static_cast<std::size_t>(to - from + 1));
  for (DayNumber d = from; d <= to; ++d) out.push_back(DayUsage{d, 0, 0, 0});
  return out;
}
}  // namespace

bool UsageStore::write_batch(const std::string& batch_id, const std::vector<UsageDelta>& deltas,
                             const std::vector<LastUse>& last_used, const std::vector<ScopeUse>& scopes) {
  Lease sql(db_);
  WriteTransaction tx(*sql, db_.dialect());
  long long seen = 0;
  *sql << "SELECT COUNT(*) FROM api_access_usage_batches WHERE batch_id = :b", soci::into(seen),
      soci::use(batch_id);
  if (seen != 0) return false;  // an earlier attempt committed: never add twice
  long long written_at = wall_clock_micros();
  *sql << "INSERT INTO api_access_usage_batches (batch_id, written_at) VALUES (:b, :w)",
      soci::use(batch_id), soci::use(written_at);
  long long key_id = 0, requests = 0, client = 0, server = 0, limited = 0, at = 0;
  std::string day;
  if (!deltas.empty()) {
    // Same text on both dialects; the existing row is named by its table, the proposed one by
    // `excluded`.
    soci::statement upsert =
        (sql->prepare << "INSERT INTO api_access_usage_daily "
                         "(key_id, day, requests, client_errors, server_errors, rate_limited) "
                         "VALUES (:k, :d, :r, :c, :s, :l) ON CONFLICT (key_id, day) DO UPDATE SET "
                         "requests = api_access_usage_daily.requests + excluded.requests, "
                         "client_errors = api_access_usage_daily.client_errors + excluded.client_errors, "
                         "server_errors = api_access_usage_daily.server_errors + excluded.server_errors, "
                         "rate_limited = api_access_usage_daily.rate_limited + excluded.rate_limited",
         soci::use(key_id), soci::use(day), soci::use(requests), soci::use(client),
         soci::use(server), soci::use(limited));
    for (const auto& d : deltas) {
      key_id = d.key_id;
      day = format_date(d.day);
      requests = static_cast<long long>(d.requests);
      client = static_cast<long long>(d.client_errors);
      server = static_cast<long long>(d.server_errors);
      limited = static_cast<long long>(d.rate_limited);
      upsert.execute(true);
    }
  }
  if (!last_used.empty()) {
    soci::statement touch =
        (sql->prepare << "UPDATE api_access_keys SET last_used_at = :at WHERE id = :k "
                         "AND (last_used_at IS NULL OR last_used_at < :at2)",
         soci::use(at), soci::use(key_id), soci::use(at));
    // The client is written unless another process recorded a later use meanwhile.
    std::string address, agent;
    soci::statement from =
        (sql->prepare << "UPDATE api_access_keys SET last_used_address = :a, last_used_agent = :u "
                         "WHERE id = :k AND (last_used_at IS NULL OR last_used_at <= :at)",
         soci::use(address), soci::use(agent), soci::use(key_id), soci::use(at));
    for (const auto& u : last_used) {
      key_id = u.key_id;
      at = u.at;
      if (at > 0) touch.execute(true);
      if (u.client) {
        address = u.client->address;
        agent = u.client->user_agent;
        from.execute(true);
      }
    }
  }
  if (!scopes.empty()) {
    long long sk = 0, sr = 0, sl = 0;
    std::string scope;
    soci::statement add =
        (sql->prepare << "INSERT INTO api_access_scope_usage (key_id, scope, requests, last_used_at) "
                         "VALUES (:k, :s, :r, :l) ON CONFLICT (key_id, scope) DO UPDATE SET "
                         "requests = api_access_scope_usage.requests + excluded.requests, "
                         "last_used_at = CASE WHEN excluded.last_used_at > api_access_scope_usage.last_used_at "
                         "THEN excluded.last_used_at ELSE api_access_scope_usage.last_used_at END",
         soci::use(sk), soci::use(scope), soci::use(sr), soci::use(sl));
    for (const auto& u : scopes) {
      sk = u.key_id;
      scope = u.scope;
      sr = static_cast<long long>(u.requests);
      sl = u.last_used_at;
      add.execute(true);
    }
  }
  tx.commit();
  return true;
}

std::map<KeyId, std::vector<ScopeUse>> UsageStore::scopes_for_keys(const std::vector<KeyId>& keys) const {
  std::map<KeyId, std::vector<ScopeUse>> out;
  if (keys.empty()) return out;
  Lease sql(db_);
  std::vector<long long> ids(keys.begin(), keys.end());
  long long key = 0, requests = 0, last = 0;
  std::string scope, in_list;
  for (std::size_t i = 0; i < ids.size(); ++i) in_list += (i ? ", :k" : ":k") + std::to_string(i);
  soci::statement st(*sql);
  st.exchange(soci::into(key));
  st.exchange(soci::into(scope));
  st.exchange(soci::into(requests));
  st.exchange(soci::into(last));
  for (auto& id : ids) st.exchange(soci::use(id));
  st.alloc();
  st.prepare("SELECT key_id, scope, requests, last_used_at FROM api_access_scope_usage WHERE key_id IN (" +
             in_list + ") ORDER BY key_id, scope");
  st.define_and_bind();
  st.execute();
  while (st.fetch())
    out[key].push_back(ScopeUse{key, scope, static_cast<std::uint64_t>(requests), last});
  return out;
}

std::optional<Micros> UsageStore::scope_counting_since() const {
  Lease sql(db_);
  long long at = 0;
  soci::indicator ind = soci::i_null;
  *sql << "SELECT started_at FROM api_access_scope_tracking WHERE id = 1", soci::into(at, ind);
  if (!sql->got_data() || ind != soci::i_ok) return std::nullopt;
  return at;
}

void UsageStore::start_scope_counting(Micros now) {
  Lease sql(db_);
  long long at = now;
  *sql << "INSERT INTO api_access_scope_tracking (id, started_at) VALUES (1, :a) ON CONFLICT (id) DO NOTHING",
      soci::use(at);
}

void UsageStore::trim_batches(Micros before) {
  Lease sql(db_);
  long long b = before;
  *sql << "DELETE FROM api_access_usage_batches WHERE written_at < :b", soci::use(b);
}

std::vector<DayUsage> UsageStore::daily(KeyId key, DayNumber from, DayNumber to) const {
  auto out = dense(from, to);
  if (out.empty()) return out;
  Lease sql(db_);
  long long k = key, requests = 0, client = 0, server = 0, limited = 0;
  std::string lo = format_date(from), hi = format_date(to), day;
  soci::statement st =
      (sql->prepare << "SELECT day, requests, client_errors, server_errors, rate_limited "
                       "FROM api_access_usage_daily WHERE key_id = :k AND day >= :lo AND day <= :hi",
       soci::into(day), soci::into(requests), soci::into(client), soci::into(server),
       soci::into(limited), soci::use(k), soci::use(lo), soci::use(hi));
  st.execute();
  while (st.fetch()) {
    const DayNumber d = parse_date(day);
    if (d < from || d > to) continue;
    auto& slot = out[static_cast<std::size_t>(d - from)];
    slot.requests = static_cast<std::uint64_t>(requests);
    slot.client_errors = static_cast<std::uint64_t>(client);
    slot.server_errors = static_cast<std::uint64_t>(server);
    slot.rate_limited = static_cast<std::uint64_t>(limited);
  }
  return out;
}

std::map<KeyId, std::vector<DayUsage>> UsageStore::daily_for_keys(const std::vector<KeyId>& keys,
                                                                  DayNumber from, DayNumber to) const {
  std::map<KeyId, std::vector<DayUsage>> out;
  if (to < from || keys.empty()) return out;
  Lease sql(db_);
  std::vector<long long> ids(keys.begin(), keys.end());
  long long key = 0, requests = 0, client = 0, server = 0, limited = 0;
  std::string lo = format_date(from), hi = format_date(to), day;
  std::string in_list;
  for (std::size_t i = 0; i < ids.size(); ++i) in_list += (i ? ", :k" : ":k") + std::to_string(i);
  soci::statement st(*sql);
  st.exchange(soci::into(key));
  st.exchange(soci::into(day));
  st.exchange(soci::into(requests));
  st.exchange(soci::into(client));
  st.exchange(soci::into(server));
  st.exchange(soci::into(limited));
  st.exchange(soci::use(lo));
  st.exchange(soci::use(hi));
  for (auto& id : ids) st.exchange(soci::use(id));
  st.alloc();
  st.prepare("SELECT key_id, day, requests, client_errors, server_errors, rate_limited FROM api_access_usage_daily "
             "WHERE day >= :lo AND day <= :hi AND key_id IN (" + in_list + ")");
  st.define_and_bind();
  st.execute();
  while (st.fetch()) {
    const DayNumber d = parse_date(day);
    if (d < from || d > to) continue;
    auto [it, fresh] = out.try_emplace(key);
    if (fresh) it->second = dense(from, to);
    auto& slot = it->second[static_cast<std::size_t>(d - from)];
    slot.requests = static_cast<std::uint64_t>(requests);
    slot.client_errors = static_cast<std::uint64_t>(client);
    slot.server_errors = static_cast<std::uint64_t>(server);
    slot.rate_limited = static_cast<std::uint64_t>(limited);
  }
  return out;
}

UsageTotals totals(const std::vector<DayUsage>& days) noexcept {
  UsageTotals t;
  for (const auto& d : days) {
    t.requests += d.requests;
    t.client_errors += d.client_errors;
    t.server_errors += d.server_errors;
    t.rate_limited += d.rate_limited;
  }
  return t;
}

}  // namespace mdp::api_access
