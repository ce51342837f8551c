#include "disclosure/disclosure_store.hpp"

#include <chrono>

#include <soci/soci.h>

#include "util/db.hpp"

namespace mdp::api_access {

namespace {

long long wall_clock_micros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

const char* access_name(host::RecordAccess a) { return a == host::RecordAccess::write ? "write" : "read"; }

// Reads the rows of a SELECT of (key_id, day, record_type, record_id, access, requests,
// first_at, last_at, label, preview) with its parameters already bound.
struct EntryReader {
  long long key = 0, record = 0, requests = 0, first = 0, last = 0;
  std::string day, type, access, label, preview;
  void bind(soci::statement& st) {
    st.exchange(soci::into(key));
    st.exchange(soci::into(day));
    st.exchange(soci::into(type));
    st.exchange(soci::into(record));
    st.exchange(soci::into(access));
    st.exchange(soci::into(requests));
    st.exchange(soci::into(first));
    st.exchange(soci::into(last));
    st.exchange(soci::into(label));
    st.exchange(soci::into(preview));
  }
  DisclosureEntry entry() const {
    DisclosureEntry e;
    e.row.key_id = key;
    e.row.day = parse_day(day).value_or(0);
    e.row.record_type = type;
    e.row.record_id = record;
    e.row.access = access == "write" ? host::RecordAccess::write : host::RecordAccess::read;
    e.row.requests = static_cast<std::uint64_t>(requests);
    e.row.first_at = first;
    e.row.last_at = last;
    e.key_label = label;
    e.key_preview = preview;
    return e;
  }
};

constexpr const char* kColumns =
    "SELECT d.key_id, d.day, d.record_type, d.record_id, d.access, d.requests, d.first_at, d.last_at, "
    "k.label, k.preview FROM api_access_disclosures d JOIN api_access_keys k ON k.id = d.key_id ";

}  // namespace

bool DisclosureStore::write_batch(const std::string& batch_id, const std::vector<DisclosureRow>& rows) {
  Lease sql(db_);
  const host::Dialect dialect = db_.dialect();
  WriteTransaction tx(*sql, dialect);
  long long seen = 0;
  *sql << "SELECT COUNT(*) FROM api_access_disclosure_batches WHERE batch_id = :b", soci::into(seen),
      soci::use(batch_id);
  if (seen != 0) return false;  // an earlier attempt committed: never add twice
  long long written_at = wall_clock_micros();
  *sql << "INSERT INTO api_access_disclosure_batches (batch_id, written_at) VALUES (:b, :w)", soci::use(batch_id),
      soci::use(written_at);
  if (!rows.empty()) {
    long long key = 0, record = 0, requests = 0, first = 0, last = 0;
    std::string day, type, access;
    // SQLite's two-argument MIN/MAX are PostgreSQL's LEAST/GREATEST.
    const std::string lo = dialect == host::Dialect::sqlite ? "MIN" : "LEAST";
    const std::string hi = dialect == host::Dialect::sqlite ? "MAX" : "GREATEST";
    soci::statement upsert =
        (sql->prepare << "INSERT INTO api_access_disclosures (key_id, day, record_type, record_id, access, requests, "
                         "first_at, last_at) VALUES (:k, :d, :t, :r, :a, :n, :f, :l) "
                         "ON CONFLICT (key_id, day, record_type, record_id, access) DO UPDATE SET "
                         "requests = api_access_disclosures.requests + excluded.requests, "
                         "first_at = " + lo + "(api_access_disclosures.first_at, excluded.first_at), "
                         "last_at = " + hi + "(api_access_disclosures.last_at, excluded.last_at)",
         soci::use(key), soci::use(day), soci::use(type), soci::use(record), soci::use(access), soci::use(requests),
         soci::use(first), soci::use(last));
    for (const auto& r : rows) {
      key = r.key_id;
      day = format_date(r.day);
      type = r.record_type;
      record = r.record_id;
      access = access_name(r.access);
      requests = static_cast<long long>(r.requests);
      first = r.first_at;
      last = r.last_at;
      upsert.execute(true);
    }
  }
  tx.commit();
  return true;
}

void DisclosureStore::trim_batches(Micros before) {
  Lease sql(db_);
  long long b = before;
  *sql << "DELETE FROM api_access_disclosure_batches WHERE written_at < :b", soci::use(b);
}

std::size_t DisclosureStore::trim_before(DayNumber first_kept) {
  Lease sql(db_);
  std::string day = format_date(first_kept);
  soci::statement st = (sql->prepare << "DELETE FROM api_access_disclosures WHERE day < :d", soci::use(day));
  st.execute(true);
  return static_cast<std::size_t>(st.get_affected_rows());
}

std::vector<DisclosureEntry> DisclosureStore::for_key(KeyId key, DayNumber from, DayNumber to,
                                                      std::size_t limit) const {
  std::vector<DisclosureEntry> out;
  if (to < from) return out;
  Lease sql(db_);
  long long k = key, lim = static_cast<long long>(limit);
  std::string lo = format_date(from), hi = format_date(to);
  EntryReader r;
  soci::statement st(*sql);
  r.bind(st);
  st.exchange(soci::use(k));
  st.exchange(soci::use(lo));
  st.exchange(soci::use(hi));
  st.exchange(soci::use(lim));
  st.alloc();
  st.prepare(std::string(kColumns) +
             "WHERE d.key_id = :k AND d.day >= :lo AND d.day <= :hi "
             "ORDER BY d.day, d.record_type, d.record_id, d.access LIMIT :n");
  st.define_and_bind();
  st.execute();
  while (st.fetch()) out.push_back(r.entry());
  return out;
}

std::vector<DisclosureEntry> DisclosureStore::for_record(host::ClinicId clinic, const std::string& type,
                                                         std::int64_t id, DayNumber from, DayNumber to,
                                                         std::size_t limit) const {
  std::vector<DisclosureEntry> out;
  if (to < from) return out;
  Lease sql(db_);
  long long c = clinic, rid = id, lim = static_cast<long long>(limit);
  std::string t = type, lo = format_date(from), hi = format_date(to);
  EntryReader r;
  soci::statement st(*sql);
  r.bind(st);
  st.exchange(soci::use(t));
  st.exchange(soci::use(rid));
  st.exchange(soci::use(lo));
  st.exchange(soci::use(hi));
  st.exchange(soci::use(c));
  st.exchange(soci::use(lim));
  st.alloc();
  st.prepare(std::string(kColumns) +
             "WHERE d.record_type = :t AND d.record_id = :r AND d.day >= :lo AND d.day <= :hi "
             "AND k.clinic_id = :c ORDER BY d.day, d.key_id, d.access LIMIT :n");
  st.define_and_bind();
  st.execute();
  while (st.fetch()) out.push_back(r.entry());
  return out;
}

}  // namespace mdp::api_access
