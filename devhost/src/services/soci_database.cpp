#include "services/soci_database.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <poll.h>
#include <sys/socket.h>

#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include <libpq-fe.h>

#include "mdp/host/sdk/migrations.hpp"
#include "services/host_services.hpp"

namespace mdp::devhost {

using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

namespace {

// Pool tuning (see the header for what each does).
constexpr std::chrono::milliseconds kFirstBackoff = 100ms;
constexpr std::chrono::milliseconds kMaxBackoff = 500ms;
constexpr std::chrono::milliseconds kHealerTick = 250ms;
constexpr std::chrono::milliseconds kPingTimeout = 1s;
constexpr const char* kDefaultConnectTimeout = "2";  // seconds; libpq's minimum

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// libpq would print NOTICEs on stderr; they are dropped. A FATAL that arrives while the
// connection is idle is the server announcing it is closing this connection (a shutdown, a
// restart, pg_terminate_backend); libpq treats it as a notice and keeps the status OK until it
// reads the close, which may come a moment later. Shutting the socket down here makes that
// read happen at once, so the pool's check sees a bad connection instead of handing it out.
void on_notice(void* conn, const PGresult* res) {
  const char* severity = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
  if (severity == nullptr) return;
  if (std::strcmp(severity, "FATAL") == 0 || std::strcmp(severity, "PANIC") == 0) {
    int fd = PQsocket(static_cast<PGconn*>(conn));
    if (fd >= 0) ::shutdown(fd, SHUT_RDWR);
  }
}

PGconn* pg_conn(soci::session& s) noexcept {
  auto* be = static_cast<soci::postgresql_session_backend*>(s.get_backend());
  return be != nullptr ? be->conn_ : nullptr;
}

void prepare_session(soci::session& s, host::Dialect dialect) {
  if (dialect == host::Dialect::sqlite) {
    // WAL lets readers run beside the one writer; busy_timeout makes a writer wait for the
    // lock instead of failing at once with SQLITE_BUSY; foreign keys are off by default.
    execute_script(s, dialect,
                   "PRAGMA journal_mode=WAL; PRAGMA busy_timeout=5000; PRAGMA foreign_keys=ON; "
                   "PRAGMA synchronous=NORMAL;");
  } else {
    PGconn* c = pg_conn(s);
    PQsetNoticeReceiver(c, &on_notice, c);
    execute_script(s, dialect, "SET TIME ZONE 'UTC'");
  }
}

// libpq's messages quote the offending fragment, which may be part of a password: drop every
// "..." fragment.
std::string without_quoted_fragments(std::string message) {
  std::string out;
  bool quoted = false;
  for (char c : message) {
    if (c == '"') {
      if (!quoted) out += "\"…\"";
      quoted = !quoted;
      continue;
    }
    if (!quoted && c != '\n') out += c;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

// One value as SOCI 4.0.3 will pass it on to libpq. SOCI splits the string at whitespace and
// strips one level of double quotes ("..." may hold spaces, but no double quote), then joins
// key=value pairs again. So the value is single-quoted for libpq (backslash escapes), and that
// is double-quoted for SOCI unless it holds a double quote (then it must have no whitespace).
std::string soci_safe_value(std::string_view key, std::string_view value) {
  std::string libpq = "'";
  for (char c : value) {
    if (c == '\\' || c == '\'') libpq += '\\';
    libpq += c;
  }
  libpq += '\'';
  bool has_quote = value.find('"') != std::string_view::npos;
  bool has_space = std::any_of(value.begin(), value.end(),
                               [](unsigned char c) { return std::isspace(c) != 0; });
  if (!has_quote) return "\"" + libpq + "\"";
  if (has_space)
    throw std::invalid_argument("--database: the value of \"" + std::string(key) +
                                "\" holds both a double quote and whitespace, which SOCI cannot pass on");
  return libpq;
}

}  // namespace

std::string postgresql_conninfo(std::string_view url_or_conninfo) {
  std::string input(url_or_conninfo);
  char* err = nullptr;
  PQconninfoOption* options = PQconninfoParse(input.c_str(), &err);
  if (options == nullptr) {
    std::string why = err != nullptr ? without_quoted_fragments(err) : "out of memory";
    PQfreemem(err);
    throw std::invalid_argument("--database: libpq cannot parse the PostgreSQL connection string: " + why);
  }
  std::string out;
  bool has_timeout = false;
  try {
    for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
      if (o->val == nullptr) continue;
      if (std::string_view(o->keyword) == "connect_timeout") has_timeout = true;
      if (!out.empty()) out += ' ';
      out += o->keyword;
      out += '=';
      out += soci_safe_value(o->keyword, o->val);
    }
  } catch (...) {
    PQconninfoFree(options);
    throw;
  }
  PQconninfoFree(options);
  if (!has_timeout) out += std::string(out.empty() ? "" : " ") + "connect_timeout=" + kDefaultConnectTimeout;
  return out;
}

DatabaseConfig parse_database_option(std::string_view option) {
  if (starts_with(option, "sqlite:")) {
    std::string path(option.substr(7));
    if (path.empty()) throw std::invalid_argument("--database sqlite: needs a file path");
    return {host::Dialect::sqlite, path};
  }
  if (starts_with(option, "postgresql://") || starts_with(option, "postgres://") ||
      option.find('=') != std::string_view::npos) {
    postgresql_conninfo(option);  // refuses a string libpq cannot parse, now, in one line
    return {host::Dialect::postgresql, std::string(option)};
  }
  throw std::invalid_argument(
      "--database must be sqlite:PATH, postgresql://user@host[:port]/db or a libpq string like "
      "\"host=... dbname=...\"");
}

// ---------------------------------------------------------------------------------------------

SociDatabase::SociDatabase(host::Dialect dialect, std::string connect, std::size_t pool_size)
    : dialect_(dialect),
      connect_([&] {
        if (dialect != host::Dialect::postgresql) return std::move(connect);
        try {
          return postgresql_conninfo(connect);
        } catch (const std::invalid_argument& e) {
          throw DatabaseError(e.what());
        }
      }()),
      backoff_(kFirstBackoff) {
  const std::size_t size = pool_size == 0 ? 1 : pool_size;
  slots_.resize(size);
  idle_.reserve(size);
  try {
    for (std::size_t i = 0; i < size; ++i) {
      slots_[i].session = std::make_unique<soci::session>();
      open_into(*slots_[i].session);
    }
  } catch (const std::exception& e) {
    // libpq's connection errors name the server and the user, never the password.
    throw DatabaseError(std::string("cannot open the database: ") + e.what());
  }
  for (std::size_t i = size; i-- > 0;) idle_.push_back(i);
  healer_ = std::thread([this] { heal_loop(); });
}

SociDatabase::~SociDatabase() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_healer_.notify_all();
  available_.notify_all();
  if (healer_.joinable()) healer_.join();
}

void SociDatabase::open_into(soci::session& s) const {
  if (dialect_ == host::Dialect::sqlite) {
    // Quoted so a path with spaces survives SOCI's "name=value" connect-string parser.
    s.open(soci::sqlite3, "db=\"" + connect_ + "\"");
  } else {
    s.open(soci::postgresql, connect_);
  }
  prepare_session(s, dialect_);
}

std::unique_ptr<soci::session> SociDatabase::open_session() const {
  auto s = std::make_unique<soci::session>();
  try {
    open_into(*s);
  } catch (const std::exception& e) {
    throw DatabaseError(std::string("cannot open the database: ") + e.what());
  }
  return s;
}

bool SociDatabase::alive(soci::session& s) noexcept {
  if (dialect_ == host::Dialect::sqlite) return s.get_backend() != nullptr;
  PGconn* c = pg_conn(s);
  if (c == nullptr || PQstatus(c) != CONNECTION_OK) return false;
  // Something readable on an idle connection is a server's FATAL before it closes, the close
  // itself, or a stray notification/notice. Reading the FATAL shuts the socket (on_notice), so
  // the next round reads EOF and libpq marks the connection bad.
  for (int round = 0; round < 4; ++round) {
    pollfd p{PQsocket(c), POLLIN, 0};
    int r = ::poll(&p, 1, 0);
    if (r < 0 && errno != EINTR) return false;
    if (r <= 0) break;
    if (PQconsumeInput(c) == 0) return false;
    while (PGnotify* n = PQnotifies(c)) PQfreemem(n);
  }
  return PQstatus(c) == CONNECTION_OK && PQtransactionStatus(c) == PQTRANS_IDLE;
}

bool SociDatabase::clean_after_use(soci::session& s) noexcept {
  try {
    if (dialect_ == host::Dialect::sqlite) {
      auto* be = static_cast<soci::sqlite3_session_backend*>(s.get_backend());
      if (be == nullptr) return false;
      if (sqlite_api::sqlite3_get_autocommit(be->conn_) == 0) execute_script(s, dialect_, "ROLLBACK");
      return true;
    }
    PGconn* c = pg_conn(s);
    if (c == nullptr || PQstatus(c) != CONNECTION_OK) return false;
    PGTransactionStatusType t = PQtransactionStatus(c);
    if (t == PQTRANS_INTRANS || t == PQTRANS_INERROR) execute_script(s, dialect_, "ROLLBACK");
    else if (t != PQTRANS_IDLE) return false;  // a query still running, or unknown: start over
    return alive(s);
  } catch (...) {
    return false;
  }
}

bool SociDatabase::ping(soci::session& s) noexcept {
  if (dialect_ == host::Dialect::sqlite) return true;
  PGconn* c = pg_conn(s);
  if (c == nullptr || PQstatus(c) != CONNECTION_OK) return false;
  if (PQsendQuery(c, "SELECT 1") == 0) return false;
  const auto deadline = SteadyClock::now() + kPingTimeout;
  for (;;) {
    if (PQconsumeInput(c) == 0) return false;
    if (PQisBusy(c) == 0) break;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
    if (left <= 0ms) return false;  // no answer in time: the caller reopens the connection
    pollfd p{PQsocket(c), POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) < 0 && errno != EINTR) return false;
  }
  bool ok = true;
  while (PGresult* r = PQgetResult(c)) {
    if (PQresultStatus(r) != PGRES_TUPLES_OK) ok = false;
    PQclear(r);
  }
  return ok && PQstatus(c) == CONNECTION_OK;
}

// ---------------------------------------------------------------------------------------------

soci::session* SociDatabase::borrow(std::chrono::milliseconds timeout, std::size_t& token) noexcept {
  try {
    const auto deadline = SteadyClock::now() + timeout;
    std::unique_lock lock(mutex_);
    for (;;) {
      if (stopping_) return nullptr;
      if (!idle_.empty()) {
        std::size_t i = idle_.back();
        idle_.pop_back();
        slots_[i].state = SlotState::leased;
        lock.unlock();
        bool ok = alive(*slots_[i].session);
        lock.lock();
        if (ok) {
          token = i;
          return slots_[i].session.get();
        }
        mark_broken_locked(i);
        continue;
      }
      // Nothing idle. While the database is known to be down, waiting would only delay the
      // caller's 503.
      if (down_) return nullptr;
      auto ready = [&] { return stopping_ || down_ || !idle_.empty(); };
      if (timeout.count() < 0) {
        available_.wait(lock, ready);
      } else if (!available_.wait_until(lock, deadline, ready)) {
        return nullptr;
      }
    }
  } catch (...) {
    return nullptr;
  }
}

void SociDatabase::give_back(std::size_t token) noexcept {
  if (token >= slots_.size()) return;
  {
    std::lock_guard lock(mutex_);
    if (slots_[token].state != SlotState::leased) return;
  }
  // The slot is still ours (leased): check it without holding the pool's lock.
  bool ok = clean_after_use(*slots_[token].session);
  {
    std::lock_guard lock(mutex_);
    if (!ok) {
      mark_broken_locked(token);
      return;
    }
    slots_[token].state = SlotState::idle;
    slots_[token].checked = true;
    idle_.push_back(token);
  }
  available_.notify_one();
}

void SociDatabase::mark_broken_locked(std::size_t i) {
  slots_[i].state = SlotState::broken;
  ++broken_;
  if (!suspect_) {
    suspect_ = true;
    for (auto& s : slots_) s.checked = false;
  }
  // Try at once unless a backoff is already running (the database is down).
  if (!down_) next_attempt_ = SteadyClock::now();
  wake_healer_.notify_one();
}

void SociDatabase::report_connection_lost() noexcept {
  try {
    std::lock_guard lock(mutex_);
    suspect_ = true;
    for (auto& s : slots_) s.checked = false;
  } catch (...) {
  }
  wake_healer_.notify_one();
}

bool SociDatabase::retry_now_and_wait(std::chrono::milliseconds limit) noexcept {
  try {
    std::unique_lock lock(mutex_);
    if (broken_ > 0) {
      next_attempt_ = SteadyClock::now();
      backoff_ = kFirstBackoff;
      wake_healer_.notify_one();
    }
    return available_.wait_for(lock, limit, [&] {
      return stopping_ || (!down_ && broken_ < slots_.size());
    }) && !stopping_;
  } catch (...) {
    return false;
  }
}

SociDatabase::Health SociDatabase::health() const {
  std::lock_guard lock(mutex_);
  Health h;
  h.sessions = slots_.size();
  for (const auto& s : slots_) {
    if (s.state == SlotState::leased) ++h.leased;
  }
  h.idle = idle_.size();
  h.broken = broken_;
  h.database_down = down_;
  h.reopened = reopened_;
  h.failed_attempts = failed_attempts_;
  return h;
}

// ---------------------------------------------------------------------------------------------
// The healer thread.

void SociDatabase::heal_loop() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    const auto now = SteadyClock::now();
    if (broken_ > 0 && now >= next_attempt_) {
      auto it = std::find_if(slots_.begin(), slots_.end(),
                             [](const Slot& s) { return s.state == SlotState::broken; });
      heal_one(lock, static_cast<std::size_t>(it - slots_.begin()));
      continue;
    }
    if (dialect_ == host::Dialect::postgresql) check_idle(lock);
    if (stopping_) break;
    // SQLite sessions never break on their own: sleep until someone reports one.
    auto until = dialect_ == host::Dialect::postgresql ? SteadyClock::now() + kHealerTick
                                                       : SteadyClock::time_point::max();
    if (broken_ > 0) until = std::min(until, next_attempt_);
    wake_healer_.wait_until(lock, until);
  }
}

void SociDatabase::heal_one(std::unique_lock<std::mutex>& lock, std::size_t i) {
  Slot& slot = slots_[i];
  slot.state = SlotState::busy;  // still counted in broken_ until it works
  lock.unlock();
  std::string why;
  bool ok = false;
  try {
    soci::session& s = *slot.session;
    s.close();
    open_into(s);
    ok = true;
  } catch (const std::exception& e) {
    why = e.what();
  } catch (...) {
    why = "unknown error";
  }
  if (!ok) {
    try {
      slot.session->close();
    } catch (...) {
    }
  }
  lock.lock();
  if (ok) {
    --broken_;
    ++reopened_;
    slot.state = SlotState::idle;
    slot.checked = true;
    idle_.push_back(i);
    backoff_ = kFirstBackoff;
    if (down_) {
      down_ = false;
      StderrLog("database").write(host::LogLevel::info, "database reachable again");
    }
    available_.notify_all();
    return;
  }
  ++failed_attempts_;
  slot.state = SlotState::broken;
  if (!down_) {
    down_ = true;
    for (char& c : why)
      if (c == '\n') c = ' ';
    StderrLog("database").write(host::LogLevel::warning,
                                "database unreachable, retrying every " +
                                    std::to_string(kMaxBackoff.count()) + " ms at most: " + why);
  }
  next_attempt_ = SteadyClock::now() + backoff_;
  backoff_ = std::min(backoff_ * 2, kMaxBackoff);
  available_.notify_all();  // waiting borrowers answer nullptr now
}

void SociDatabase::check_idle(std::unique_lock<std::mutex>& lock) {
  // One idle slot at a time, so borrowers are never kept from more than one session.
  std::vector<std::size_t> todo = idle_;
  bool all_checked = true;
  for (std::size_t i : todo) {
    auto pos = std::find(idle_.begin(), idle_.end(), i);
    if (pos == idle_.end()) continue;  // borrowed meanwhile
    idle_.erase(pos);
    Slot& slot = slots_[i];
    slot.state = SlotState::busy;
    const bool deep = suspect_ && !slot.checked;
    lock.unlock();
    bool ok = alive(*slot.session) && (!deep || ping(*slot.session));
    lock.lock();
    if (!ok) {
      mark_broken_locked(i);
      all_checked = false;
      continue;
    }
    if (deep) slot.checked = true;
    slot.state = SlotState::idle;
    idle_.insert(idle_.begin(), i);  // at the cold end: hot sessions stay hot
    available_.notify_one();
    if (stopping_) return;
  }
  if (suspect_ && all_checked && broken_ == 0 &&
      std::all_of(slots_.begin(), slots_.end(),
                  [](const Slot& s) { return s.checked || s.state == SlotState::leased; }))
    suspect_ = false;
}

// ---------------------------------------------------------------------------------------------

void execute_script(soci::session& session, host::Dialect dialect, const std::string& sql) {
  // One implementation of multi-statement scripts for every host: the SDK's.
  try {
    host::sdk::execute_script(session, dialect, sql);
  } catch (const host::sdk::ScriptError& e) {
    throw DatabaseError(e.what());
  }
}

}  // namespace mdp::devhost
