#include "services/notifications.hpp"

#include <chrono>
#include <ctime>
#include <fstream>
#include <system_error>
#include <unistd.h>

#include <botan/base64.h>
#include <soci/soci.h>

#include "services/host_services.hpp"
#include "services/soci_database.hpp"

namespace mdp::devhost {

using namespace std::chrono_literals;

namespace {

constexpr std::chrono::milliseconds kWait = 2s;  // like every other host lookup
constexpr std::size_t kMaxKey = 200, kMaxSubject = 200, kMaxBody = 8192, kMaxLink = 500;
constexpr std::size_t kOutboxBatch = 100;

long long micros(host::TimePoint t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}
host::TimePoint from_micros(long long us) {
  return host::TimePoint(std::chrono::duration_cast<host::TimePoint::duration>(std::chrono::microseconds(us)));
}

bool has_control(const std::string& s, bool allow_newlines) {
  for (unsigned char c : s) {
    if (allow_newlines && (c == '\n' || c == '\t')) continue;
    if (c < 0x20 || c == 0x7f) return true;
  }
  return false;
}

const char* severity_name(host::NotificationSeverity s) {
  switch (s) {
    case host::NotificationSeverity::warning: return "warning";
    case host::NotificationSeverity::danger: return "danger";
    case host::NotificationSeverity::info: break;
  }
  return "info";
}

// Why a message cannot be delivered as given, or "" when it can.
std::string invalid_reason(const host::Notification& n) {
  if (n.clinic_id <= 0) return "no clinic";
  if (n.key.empty() || n.key.size() > kMaxKey || has_control(n.key, false)) return "key empty, too long or with control characters";
  if (n.subject.find_first_not_of(' ') == std::string::npos || n.subject.size() > kMaxSubject ||
      has_control(n.subject, false))
    return "subject empty, too long or not one line";
  if (n.body.size() > kMaxBody || has_control(n.body, true)) return "body too long or with control characters";
  if (!n.link.empty() && (n.link.size() > kMaxLink || n.link[0] != '/' ||
                          (n.link.size() > 1 && (n.link[1] == '/' || n.link[1] == '\\')) ||
                          n.link.find_first_of(" \"<>\\") != std::string::npos || has_control(n.link, false)))
    return "link is not a host path";
  const auto severity = static_cast<unsigned>(n.severity);
  if (severity > static_cast<unsigned>(host::NotificationSeverity::danger)) return "unknown severity";
  return "";
}

// RFC 5322 date in UTC, e.g. "Sat, 05 Dec 2026 06:18:57 +0000".
std::string email_date(host::TimePoint t) {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d +0000", kDays[tm.tm_wday], tm.tm_mday,
                kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

bool is_ascii(std::string_view s) {
  for (unsigned char c : s)
    if (c >= 0x80) return false;
  return true;
}

// A header value: as is when ASCII, else RFC 2047 encoded words of at most 45 bytes of UTF-8
// each (whole characters), folded onto continuation lines.
std::string header_text(std::string_view s) {
  if (is_ascii(s)) return std::string(s);
  std::string out;
  std::size_t i = 0;
  while (i < s.size()) {
    std::size_t end = std::min(s.size(), i + 45);
    while (end < s.size() && end > i && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
    const auto chunk = s.substr(i, end - i);
    if (!out.empty()) out += "\r\n ";
    out += "=?UTF-8?B?" +
           Botan::base64_encode(reinterpret_cast<const std::uint8_t*>(chunk.data()), chunk.size()) + "?=";
    i = end;
  }
  return out;
}

// "Name <addr>" with the name quoted (or encoded) when it needs to be.
std::string mailbox(const std::string& name, const std::string& email) {
  if (name.empty()) return "<" + email + ">";
  if (!is_ascii(name)) return header_text(name) + " <" + email + ">";
  std::string quoted = "\"";
  for (char c : name) {
    if (c == '"' || c == '\\') quoted += '\\';
    quoted += c;
  }
  return quoted + "\" <" + email + ">";
}

std::string crlf_lines(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\n') out += "\r\n";
    else out += c;
  }
  return out;
}

}  // namespace

std::string format_email(const StoredNotification& n, const std::string& to_name,
                         const std::string& to_email, const std::string& base_url) {
  std::string body = n.body;
  if (!n.link.empty()) body += (body.empty() ? "" : "\n\n") + std::string("Open: ") + base_url + n.link;
  body += "\n\n-- \nMyDentalPractice sends this to the admins of your clinic.\n";
  bool long_line = false;
  std::size_t run = 0;
  for (char c : body) {
    run = c == '\n' ? 0 : run + 1;
    if (run > 900) long_line = true;
  }
  std::string out;
  out += "From: \"MyDentalPractice\" <notifications@mydentalpractice.invalid>\r\n";
  out += "To: " + mailbox(to_name, to_email) + "\r\n";
  out += "Subject: " + header_text(n.subject) + "\r\n";
  out += "Date: " + email_date(n.created_at) + "\r\n";
  out += "Message-ID: <notification-" + std::to_string(n.id) + "@mdp-devhost.invalid>\r\n";
  out += "MIME-Version: 1.0\r\n";
  out += "Content-Type: text/plain; charset=utf-8\r\n";
  out += "X-MDP-Plugin: " + n.plugin_id + "\r\n";
  out += "X-MDP-Severity: " + n.severity + "\r\n";
  if (long_line) {
    // A line longer than SMTP allows (998 bytes): base64 keeps it whole.
    out += "Content-Transfer-Encoding: base64\r\n\r\n";
    const std::string b64 =
        Botan::base64_encode(reinterpret_cast<const std::uint8_t*>(body.data()), body.size());
    for (std::size_t i = 0; i < b64.size(); i += 76) out += b64.substr(i, 76) + "\r\n";
  } else {
    out += "Content-Transfer-Encoding: 8bit\r\n\r\n";
    out += crlf_lines(body);
  }
  return out;
}

NotificationCenter::NotificationCenter(host::Database& db, const host::Clock& clock,
                                       std::filesystem::path outbox)
    : db_(db), clock_(clock), outbox_(std::move(outbox)) {
  if (!outbox_.empty()) std::filesystem::create_directories(outbox_);
}

void NotificationCenter::set_base_url(std::string base) {
  std::lock_guard g(mutex_);
  base_url_ = std::move(base);
}

host::NotifyResult NotificationCenter::notify(const std::string& plugin_id,
                                              const host::Notification& n) noexcept {
  try {
    if (const std::string why = invalid_reason(n); !why.empty()) {
      StderrLog("devhost").write(host::LogLevel::warning,
                                 "notification from " + plugin_id + " rejected: " + why);
      return host::NotifyResult::rejected;
    }
    host::SessionLease s(db_, kWait);
    if (!s) return host::NotifyResult::unavailable;
    const host::Dialect d = db_.dialect();
    execute_script(*s, d, d == host::Dialect::sqlite ? "BEGIN IMMEDIATE" : "BEGIN");
    bool stored = false;
    try {
      long long clinic = n.clinic_id, seen = 0, exists = 0;
      *s << "SELECT COUNT(*) FROM host_notifications WHERE plugin_id = :p AND notice_key = :k",
          soci::into(seen), soci::use(plugin_id), soci::use(n.key);
      if (seen == 0) {
        *s << "SELECT COUNT(*) FROM host_clinics WHERE id = :c", soci::into(exists), soci::use(clinic);
        if (exists == 0) {
          execute_script(*s, d, "ROLLBACK");
          return host::NotifyResult::rejected;
        }
        long long admin = 0;
        soci::statement who = (s->prepare << "SELECT id FROM host_users WHERE clinic_id = :c AND role = 'admin'"
                                             " ORDER BY id",
                               soci::into(admin), soci::use(clinic));
        who.execute();
        std::vector<long long> all;
        while (who.fetch()) all.push_back(admin);
        long long user = 0, at = micros(clock_.now());
        std::string severity = severity_name(n.severity);
        soci::statement insert =
            (s->prepare << "INSERT INTO host_notifications (clinic_id, user_id, plugin_id, notice_key, severity,"
                           " subject, body, link, created_at) VALUES (:c, :u, :p, :k, :s, :t, :b, :l, :a)"
                           " ON CONFLICT (plugin_id, notice_key, user_id) DO NOTHING",
             soci::use(clinic), soci::use(user), soci::use(plugin_id), soci::use(n.key), soci::use(severity),
             soci::use(n.subject), soci::use(n.body), soci::use(n.link), soci::use(at));
        for (long long u : all) {
          user = u;
          insert.execute(true);
          stored = stored || insert.get_affected_rows() > 0;
        }
      }
      execute_script(*s, d, "COMMIT");
    } catch (...) {
      try {
        execute_script(*s, d, "ROLLBACK");
      } catch (...) {
      }
      throw;
    }
    if (stored) flush_outbox();
    return host::NotifyResult::accepted;
  } catch (const std::exception& e) {
    StderrLog("devhost").write(host::LogLevel::warning,
                               "notification from " + plugin_id + " not stored: " + e.what());
  } catch (...) {
  }
  return host::NotifyResult::unavailable;
}

host::Lookup<std::vector<StoredNotification>> NotificationCenter::list(host::UserId user,
                                                                       std::size_t limit) const noexcept {
  using L = host::Lookup<std::vector<StoredNotification>>;
  try {
    host::SessionLease s(db_, kWait);
    if (!s) return L::unavailable();
    std::vector<StoredNotification> out;
    StoredNotification n;
    long long uid = user, lim = static_cast<long long>(limit), created = 0, read_at = 0;
    soci::indicator read_ind = soci::i_null;
    soci::statement st = (s->prepare << "SELECT id, plugin_id, severity, subject, body, link, created_at, read_at"
                                        " FROM host_notifications WHERE user_id = :u ORDER BY id DESC LIMIT :n",
                          soci::into(n.id), soci::into(n.plugin_id), soci::into(n.severity), soci::into(n.subject),
                          soci::into(n.body), soci::into(n.link), soci::into(created), soci::into(read_at, read_ind),
                          soci::use(uid), soci::use(lim));
    st.execute();
    while (st.fetch()) {
      n.created_at = from_micros(created);
      n.read = read_ind == soci::i_ok;
      out.push_back(n);
    }
    return L::found(std::move(out));
  } catch (...) {
    return L::unavailable();
  }
}

host::Lookup<std::size_t> NotificationCenter::unread(host::UserId user) const noexcept {
  using L = host::Lookup<std::size_t>;
  try {
    host::SessionLease s(db_, kWait);
    if (!s) return L::unavailable();
    long long uid = user, n = 0;
    *s << "SELECT COUNT(*) FROM host_notifications WHERE user_id = :u AND read_at IS NULL", soci::into(n),
        soci::use(uid);
    return L::found(static_cast<std::size_t>(n));
  } catch (...) {
    return L::unavailable();
  }
}

bool NotificationCenter::mark_read(host::UserId user, std::optional<std::int64_t> id) noexcept {
  try {
    host::SessionLease s(db_, kWait);
    if (!s) return false;
    long long uid = user, at = micros(clock_.now());
    if (id) {
      long long nid = *id;
      *s << "UPDATE host_notifications SET read_at = :a WHERE user_id = :u AND id = :i AND read_at IS NULL",
          soci::use(at), soci::use(uid), soci::use(nid);
    } else {
      *s << "UPDATE host_notifications SET read_at = :a WHERE user_id = :u AND read_at IS NULL", soci::use(at),
          soci::use(uid);
    }
    return true;
  } catch (...) {
    return false;
  }
}

std::size_t NotificationCenter::flush_outbox() noexcept {
  if (outbox_.empty()) return 0;
  std::size_t written = 0;
  try {
    std::lock_guard g(mutex_);
    host::SessionLease s(db_, kWait);
    if (!s) return 0;
    struct Row {
      StoredNotification n;
      std::string name, email;
    };
    std::vector<Row> rows;
    Row r;
    long long created = 0, lim = kOutboxBatch;
    soci::statement st =
        (s->prepare << "SELECT n.id, n.plugin_id, n.severity, n.subject, n.body, n.link, n.created_at, u.name, u.email"
                       " FROM host_notifications n JOIN host_users u ON u.id = n.user_id"
                       " WHERE n.emailed_at IS NULL ORDER BY n.id LIMIT :n",
         soci::into(r.n.id), soci::into(r.n.plugin_id), soci::into(r.n.severity), soci::into(r.n.subject),
         soci::into(r.n.body), soci::into(r.n.link), soci::into(created), soci::into(r.name), soci::into(r.email),
         soci::use(lim));
    st.execute();
    while (st.fetch()) {
      r.n.created_at = from_micros(created);
      rows.push_back(r);
    }
    long long id = 0, at = micros(clock_.now());
    soci::statement mark = (s->prepare << "UPDATE host_notifications SET emailed_at = :a WHERE id = :i",
                            soci::use(at), soci::use(id));
    for (const auto& row : rows) {
      const auto final_path = outbox_ / (std::to_string(row.n.id) + ".eml");
      const auto temp_path = outbox_ / (std::to_string(row.n.id) + ".eml.tmp-" + std::to_string(::getpid()));
      {
        std::ofstream f(temp_path, std::ios::binary | std::ios::trunc);
        f << format_email(row.n, row.name, row.email, base_url_);
        f.flush();
        if (!f) throw std::runtime_error("cannot write " + temp_path.string());
      }
      std::filesystem::rename(temp_path, final_path);  // whole file or nothing
      id = row.n.id;
      mark.execute(true);
      ++written;
    }
  } catch (const std::exception& e) {
    try {
      StderrLog("devhost").write(host::LogLevel::warning,
                                 std::string("outbox: e-mails kept queued, retried later: ") + e.what());
    } catch (...) {
    }
  } catch (...) {
  }
  return written;
}

}  // namespace mdp::devhost
