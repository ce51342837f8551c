#include "auth/rate_exchange.hpp"

#include <botan/hex.h>
#include <botan/system_rng.h>
#include <soci/soci.h>

#include "util/db.hpp"

namespace mdp::api_access {

namespace {
std::string new_process_id() {
  std::uint8_t bytes[16];
  Botan::system_rng().randomize(bytes, sizeof bytes);
  return Botan::hex_encode(bytes, sizeof bytes, false);
}
}  // namespace

RateExchange::RateExchange(host::Database& db, KeyCache& cache, const host::Clock& clock,
                           host::Log& log, std::chrono::milliseconds interval)
    : db_(db), cache_(cache), clock_(clock), log_(log), interval_(interval), process_id_(new_process_id()) {}

RateExchange::~RateExchange() { stop(); }

void RateExchange::start() {
  if (db_.dialect() != host::Dialect::postgresql || thread_.joinable()) return;
  {
    std::lock_guard lock(mutex_);
    stopping_ = false;
  }
  thread_ = std::thread([this] { run(); });
  running_ = true;
}

void RateExchange::stop() noexcept {
  running_ = false;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void RateExchange::run() noexcept {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    cv_.wait_for(lock, interval_, [this] { return stopping_; });
    if (stopping_) break;
    lock.unlock();
    exchange();
    lock.lock();
  }
}

void RateExchange::publish() {
  struct Row {
    CacheEntry* entry;
    long long start, per_seconds, count;
  };
  std::vector<Row> rows;
  for (CacheEntry* e : cache_.entries()) {
    std::int64_t start = 0;
    std::uint32_t per_seconds = 0;
    std::uint64_t count = 0;
    e->rate.local(start, per_seconds, count);
    if (count == 0 || per_seconds == 0) continue;
    if (start == e->rate.published_window && count == e->rate.published_count) continue;
    rows.push_back({e, start, per_seconds, static_cast<long long>(count)});
  }
  if (rows.empty()) return;
  Lease sql(db_);
  WriteTransaction tx(*sql, db_.dialect());
  long long key = 0, start = 0, per_seconds = 0, count = 0;
  soci::statement upsert =
      (sql->prepare << "INSERT INTO api_access_rate_windows "
                       "(key_id, process_id, window_start, per_seconds, admitted) "
                       "VALUES (:k, :p, :w, :s, :a) ON CONFLICT (key_id, process_id) DO UPDATE SET "
                       "window_start = excluded.window_start, per_seconds = excluded.per_seconds, "
                       "admitted = excluded.admitted",
       soci::use(key), soci::use(process_id_), soci::use(start), soci::use(per_seconds), soci::use(count));
  for (const Row& r : rows) {
    key = r.entry->key_id;
    start = r.start;
    per_seconds = r.per_seconds;
    count = r.count;
    upsert.execute(true);
  }
  tx.commit();
  for (const Row& r : rows) {  // only once committed: a failed publish is sent again whole
    r.entry->rate.published_window = r.start;
    r.entry->rate.published_count = static_cast<std::uint64_t>(r.count);
  }
}

void RateExchange::read() {
  Lease sql(db_);
  long long now = std::chrono::duration_cast<std::chrono::seconds>(clock_.now().time_since_epoch()).count();
  long long key = 0, start = 0, admitted = 0;
  soci::statement st =
      (sql->prepare << "SELECT key_id, window_start, SUM(admitted) FROM api_access_rate_windows "
                       "WHERE process_id <> :p AND window_start + per_seconds > :now "
                       "GROUP BY key_id, window_start ORDER BY key_id, window_start",
       soci::into(key), soci::into(start), soci::into(admitted), soci::use(process_id_), soci::use(now));
  st.execute();
  // Ordered by window: when processes' clocks disagree, the newest window of a key wins.
  while (st.fetch()) {
    if (CacheEntry* e = cache_.by_id(key)) e->rate.set_others(start, static_cast<std::uint64_t>(admitted));
  }
}

void RateExchange::seed(CacheEntry& e) noexcept {
  if (!running_.load(std::memory_order_relaxed)) return;
  try {
    host::SessionLease sql(db_, std::chrono::milliseconds(200));
    if (!sql) return;
    long long key = e.key_id, start = 0, admitted = 0;
    long long now = std::chrono::duration_cast<std::chrono::seconds>(clock_.now().time_since_epoch()).count();
    soci::indicator i_start = soci::i_null;
    *sql << "SELECT window_start, SUM(admitted) FROM api_access_rate_windows "
            "WHERE key_id = :k AND process_id <> :p AND window_start + per_seconds > :now "
            "GROUP BY window_start ORDER BY window_start DESC LIMIT 1",
        soci::into(start, i_start), soci::into(admitted), soci::use(key), soci::use(process_id_), soci::use(now);
    if (sql->got_data() && i_start == soci::i_ok) e.rate.set_others(start, static_cast<std::uint64_t>(admitted));
  } catch (...) {
    // The next exchange reads it.
  }
}

bool RateExchange::exchange() noexcept {
  std::lock_guard guard(exchange_mutex_);
  try {
    publish();
    read();
    if (failing_) log_.write(host::LogLevel::info, "rate limit exchange recovered");
    failing_ = false;
    return true;
  } catch (const std::exception& e) {
    if (!failing_)
      log_.write(host::LogLevel::warning,
                 std::string("rate limit exchange failed (each process enforces its own counts "
                             "until it recovers): ") + e.what());
  } catch (...) {
  }
  failing_ = true;
  return false;
}

void RateExchange::trim() noexcept {
  try {
    Lease sql(db_);
    long long before =
        std::chrono::duration_cast<std::chrono::seconds>(clock_.now().time_since_epoch()).count() - 3600;
    *sql << "DELETE FROM api_access_rate_windows WHERE window_start + per_seconds < :b", soci::use(before);
  } catch (const std::exception& e) {
    log_.write(host::LogLevel::warning, std::string("rate limit housekeeping: ") + e.what());
  } catch (...) {
  }
}

}  // namespace mdp::api_access
