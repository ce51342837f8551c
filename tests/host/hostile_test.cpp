// The devhost against hostile traffic, over real HTTP (child process, fresh SQLite, test clock):
// login refusals (415, growing 429s with Retry-After per account and per address, identical for
// unknown e-mails), session expiry and the per-user bound, the Secure cookie under --https, the
// security header set (each header once), RFC 3339 validation of times (400, no crash on huge
// input), and connection shedding at the open-file limit.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "support/devhost_process.hpp"
#include "support/http_client.hpp"
#include "support/temp_dir.hpp"

namespace {

namespace json = boost::json;
using mdp::test::DevhostOptions;
using mdp::test::DevhostProcess;
using mdp::test::Headers;
using mdp::test::HttpClient;
using mdp::test::HttpResult;
using mdp::test::LoginSession;
using mdp::test::TempDir;

constexpr const char* kOwner = "owner@brightsmiles.test";

std::string error_code(const HttpResult& r) {
  json::error_code ec;
  json::value v = json::parse(r.body, ec);
  if (ec || !v.is_object() || !v.as_object().contains("error")) return "<no error object: " + r.body + ">";
  return std::string(v.at("error").at("code").as_string());
}

std::string login_body(const std::string& email, const std::string& password) {
  return json::serialize(json::object{{"email", email}, {"password", password}});
}

// One devhost per test: throttling state must not leak between tests.
class Hostile : public ::testing::Test {
 protected:
  void start(std::vector<std::string> extra = {}, unsigned long open_files = 0) {
    DevhostOptions o;
    o.database = mdp::test::sqlite_database(dir_);
    o.extra_args = std::move(extra);
    o.open_files_limit = open_files;
    host_ = std::make_unique<DevhostProcess>(o);
    host_->start();
  }
  void TearDown() override {
    if (!host_) return;
    EXPECT_EQ(host_->stop(), 0) << host_->stderr_text();
  }
  HttpClient client() { return HttpClient("127.0.0.1", host_->port()); }
  void advance(double seconds) {
    HttpClient c = client();
    HttpResult r = c.post("/__test/clock", json::serialize(json::object{{"advance_seconds", seconds}}));
    ASSERT_EQ(r.status, 200) << r.body;
  }
  HttpResult try_login(const std::string& email, const std::string& password) {
    HttpClient c = client();
    return c.post("/login", login_body(email, password));
  }
  LoginSession must_login(const std::string& email) {
    HttpClient c = client();
    auto s = mdp::test::login(c, email);
    if (!s) throw std::runtime_error("login failed for " + email);
    return *s;
  }

  TempDir dir_;
  std::unique_ptr<DevhostProcess> host_;
};

TEST_F(Hostile, LoginAcceptsOnlyJson) {
  start();
  HttpClient c = client();
  const std::string body = login_body(kOwner, "devpass");
  for (const char* type : {"text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
                           "application/jsonp", ""}) {
    Headers h{{"Content-Type", type}};
    HttpResult r = c.post("/login", body, h);
    EXPECT_EQ(r.status, 415) << type << ": " << r.body;
    EXPECT_EQ(error_code(r), "unsupported_media_type") << type;
    EXPECT_EQ(r.header("Set-Cookie"), "") << type;
  }
  for (const char* type : {"application/json", "application/json; charset=utf-8", "Application/JSON"}) {
    HttpResult r = c.post("/login", body, {{"Content-Type", type}});
    EXPECT_EQ(r.status, 200) << type << ": " << r.body;
  }
}

// The account's failures: 5 free, then blocks of 1, 2, 4, ... seconds, capped at 60; the block
// refuses even the right password (no password is checked while blocked); after it the real
// user gets in, and the count starts afresh.
TEST_F(Hostile, FailedLoginsPerAccountGetGrowingDelaysButNoLongLockout) {
  start();
  {
    const std::string account = kOwner;
    for (int i = 0; i < 6; ++i) {
      HttpResult r = try_login(account, "wrong-" + std::to_string(i));
      ASSERT_EQ(r.status, 401) << "attempt " << i << ": " << r.body;
      EXPECT_EQ(r.header("Retry-After"), "");
    }
    HttpResult r = try_login(account, "devpass");
    ASSERT_EQ(r.status, 429) << r.body;
    EXPECT_EQ(error_code(r), "too_many_failed_attempts");
    EXPECT_EQ(r.header("Retry-After"), "1");
    EXPECT_EQ(r.header("Set-Cookie"), "");

    // Each further failure doubles the wait, up to a minute.
    for (int expected : {2, 4, 8, 16, 32, 60, 60}) {
      advance(expected == 2 ? 1 : expected == 60 ? 60 : expected / 2);
      r = try_login(account, "wrong-again");
      ASSERT_EQ(r.status, 401) << r.body;
      r = try_login(account, "wrong-again");
      ASSERT_EQ(r.status, 429) << r.body;
      EXPECT_EQ(r.header("Retry-After"), std::to_string(expected));
    }
    // Half a minute later still blocked, with the rest of the wait.
    advance(30);
    r = try_login(account, "devpass");
    ASSERT_EQ(r.status, 429);
    EXPECT_EQ(r.header("Retry-After"), "30");
    advance(30);
  }
  // The real user is in after at most a minute (the address, with 13 failures, is still under
  // its 20 free ones); then the account starts afresh.
  HttpResult r = try_login(kOwner, "devpass");
  ASSERT_EQ(r.status, 200) << r.body;
  for (int i = 0; i < 5; ++i) EXPECT_EQ(try_login(kOwner, "wrong").status, 401);
  // Another account was never slowed by all this (the address still has attempts left).
  EXPECT_EQ(try_login("admin@lakeside.test", "devpass").status, 200);
}

TEST_F(Hostile, UnknownAndKnownEmailsAreThrottledAlike) {
  start();
  auto statuses = [&](const std::string& email) {
    std::vector<std::pair<int, std::string>> out;
    for (int i = 0; i < 8; ++i) {
      HttpResult r = try_login(email, "wrong");
      out.emplace_back(r.status, r.header("Retry-After") + " " + (r.status == 401 || r.status == 429 ? error_code(r) : r.body));
    }
    return out;
  };
  EXPECT_EQ(statuses("admin@downtown.test"), statuses("someone@downtown.test"));
}

// One address guessing across many accounts: 20 free failures, then every login from it waits,
// whatever the account.
TEST_F(Hostile, FailedLoginsPerAddressAreThrottledAcrossAccounts) {
  start();
  for (int i = 0; i < 20; ++i) {
    HttpResult r = try_login("guess" + std::to_string(i) + "@brightsmiles.test", "devpass");
    ASSERT_EQ(r.status, 401) << i << ": " << r.body;
  }
  HttpResult r = try_login("guess-more@brightsmiles.test", "devpass");
  ASSERT_EQ(r.status, 401);
  r = try_login("admin@lakeside.test", "devpass");
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(error_code(r), "too_many_failed_attempts");
  EXPECT_EQ(r.header("Retry-After"), "1");
  advance(1);
  EXPECT_EQ(try_login("admin@lakeside.test", "devpass").status, 200);
}

TEST_F(Hostile, SessionsEndAfterIdleAndAbsoluteLimits) {
  start();
  HttpClient c = client();
  LoginSession s = must_login(kOwner);
  // Idle: 30 minutes without a request.
  advance(29 * 60);
  EXPECT_EQ(c.get("/session", s.headers(false)).status, 200);
  advance(29 * 60);  // the previous request restarted the idle time
  EXPECT_EQ(c.get("/session", s.headers(false)).status, 200);
  advance(30 * 60);
  HttpResult r = c.get("/session", s.headers(false));
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(error_code(r), "not_authenticated");
  // A page asks for a new login.
  r = c.get("/settings", s.headers(false));
  EXPECT_EQ(r.status, 302);

  // Absolute: 12 hours after login, however busy.
  LoginSession busy = must_login(kOwner);
  for (int i = 0; i < 12 * 3 - 1; ++i) {
    advance(20 * 60);
    ASSERT_EQ(c.get("/session", busy.headers(false)).status, 200) << "after " << (i + 1) * 20 << " min";
  }
  advance(20 * 60);
  EXPECT_EQ(c.get("/session", busy.headers(false)).status, 401);
}

TEST_F(Hostile, AUserHoldsAtMostTenSessions) {
  start();
  HttpClient c = client();
  std::vector<LoginSession> sessions;
  for (int i = 0; i < 10; ++i) {
    sessions.push_back(must_login(kOwner));
    advance(1);
  }
  // Use the first one again: now the second is the least recently used.
  EXPECT_EQ(c.get("/session", sessions[0].headers(false)).status, 200);
  sessions.push_back(must_login(kOwner));
  EXPECT_EQ(c.get("/session", sessions[1].headers(false)).status, 401);
  for (std::size_t i : {0u, 2u, 9u, 10u})
    EXPECT_EQ(c.get("/session", sessions[i].headers(false)).status, 200) << i;
  // Other users are not affected.
  LoginSession other = must_login("admin@lakeside.test");
  EXPECT_EQ(c.get("/session", other.headers(false)).status, 200);
}

TEST_F(Hostile, CookieIsSecureOnlyUnderHttps) {
  start();
  HttpResult r = try_login(kOwner, "devpass");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.header("Set-Cookie").find("Secure"), std::string::npos) << r.header("Set-Cookie");
  EXPECT_EQ(r.header("Strict-Transport-Security"), "");
  host_->stop();

  start({"--https"});
  r = try_login(kOwner, "devpass");
  ASSERT_EQ(r.status, 200);
  const std::string cookie = r.header("Set-Cookie");
  EXPECT_NE(cookie.find("; Secure"), std::string::npos) << cookie;
  EXPECT_NE(cookie.find("HttpOnly"), std::string::npos) << cookie;
  EXPECT_NE(r.header("Strict-Transport-Security").find("max-age="), std::string::npos);
}

// Every header once (Set-Cookie aside), on pages, JSON, plugin routes and errors; pages carry a
// Content-Security-Policy without inline script, no framing, and a Permissions-Policy.
TEST_F(Hostile, SecurityHeadersAreSentEachExactlyOnce) {
  start();
  HttpClient c = client();
  LoginSession s = must_login(kOwner);
  struct Case {
    const char* target;
    bool page;
  };
  for (const Case& k : {Case{"/login", true}, Case{"/settings/billing", true}, Case{"/settings/integrations/api-keys", true},
                        Case{"/plugins/api-access/keys", false}, Case{"/billing/features", false},
                        Case{"/api/v1/patients", false}, Case{"/nothing/here", false}}) {
    SCOPED_TRACE(k.target);
    HttpResult r = c.get(k.target, s.headers(false));
    EXPECT_LT(r.status, 500) << r.body;
    std::map<std::string, int> seen;
    for (const auto& [name, value] : r.headers) {
      std::string lower = name;
      for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      ++seen[lower];
    }
    for (const auto& [name, n] : seen) EXPECT_TRUE(n == 1 || name == "set-cookie") << name << " x" << n;
    EXPECT_EQ(r.header("X-Content-Type-Options"), "nosniff");
    EXPECT_EQ(seen["cache-control"], 1);
    const std::string csp = r.header("Content-Security-Policy");
    EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos) << csp;
    EXPECT_EQ(csp.find("unsafe-inline"), std::string::npos) << csp;
    EXPECT_EQ(csp.find("unsafe-eval"), std::string::npos) << csp;
    if (k.page) {
      EXPECT_EQ(r.status, 200);
      EXPECT_NE(csp.find("script-src 'self'"), std::string::npos) << csp;
      EXPECT_NE(csp.find("object-src 'none'"), std::string::npos) << csp;
      EXPECT_NE(r.header("Permissions-Policy").find("camera=()"), std::string::npos);
      EXPECT_EQ(r.header("X-Frame-Options"), "DENY");
    } else {
      EXPECT_NE(csp.find("default-src 'none'"), std::string::npos) << csp;
    }
  }
}

class HostileApi : public Hostile {
 protected:
  // An API key of Lakeside (addon) that may write appointments, and one of its patients.
  void SetUp() override {
    start();
    HttpClient c = client();
    LoginSession admin = must_login("admin@lakeside.test");
    HttpResult r = c.post("/plugins/api-access/keys",
                          R"({"label":"Hostile","scopes":["read","appointments:write"]})", admin.headers());
    ASSERT_EQ(r.status, 201) << r.body;
    auth_ = {{"Authorization", "Bearer " + std::string(json::parse(r.body).at("secret").as_string())}};
    r = c.get("/api/v1/patients", auth_);
    ASSERT_EQ(r.status, 200) << r.body;
    patient_ = json::parse(r.body).at("patients").as_array().at(0).at("id").as_int64();
  }
  HttpResult create(const std::string& starts_at) {
    HttpClient c = client();
    json::object body{{"patient_id", patient_}, {"starts_at", starts_at}};
    return c.post("/api/v1/appointments", json::serialize(body), auth_);
  }
  Headers auth_;
  std::int64_t patient_ = 0;
};

TEST_F(HostileApi, BadTimesAre400AndHugeOnesCostNothing) {
  for (const std::string& bad :
       {std::string("soon"), std::string("2026-02-30T10:00:00Z"), std::string("2026-12-01T24:00:00Z"),
        std::string("2026-12-01 10:00:00Z"), std::string("2026-12-01T10:00:00"), std::string("1969-12-31T23:59:59Z"),
        std::string("3024-02-29T23:59:60Z"),  // beyond the host clock's range (found by fuzz_time)
        std::string("2026-12-01T10:00:00.Z"), std::string("2026-12-01T10:00:00+1:00"), std::string(""),
        "2026-12-01T10:00:00." + std::string(20'000, '1') + "Z",
        "2026-12-01T10:00:00." + std::string(100'000, '1') + "Z",
        "2026-12-01T10:00:00Z" + std::string(100'000, ' ')}) {
    HttpResult r = create(bad);
    EXPECT_EQ(r.status, 400) << bad.substr(0, 40);
    EXPECT_EQ(error_code(r), "invalid_time") << bad.substr(0, 40);
  }
  // Still serving, and good times (any offset) are stored in UTC.
  HttpResult r = create("2026-12-10T10:30:00.5+01:00");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(json::parse(r.body).at("appointment").at("starts_at"), "2026-12-10T09:30:00Z");
  r = create("2026-12-10t10:30:00z");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(json::parse(r.body).at("appointment").at("starts_at"), "2026-12-10T10:30:00Z");

  // The test clock takes the same parser.
  HttpClient c = client();
  r = c.post("/__test/clock", R"({"set":"2026-13-01T00:00:00Z"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(error_code(r), "invalid_time");
  r = c.post("/__test/clock", R"({"advance_seconds":1e300})");
  EXPECT_EQ(r.status, 400);
}

// Open sockets one by one; each sends half a request and stops.
std::vector<int> half_sent_connections(unsigned short port, int n) {
  std::vector<int> fds;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const std::string partial = "GET /demo/ping HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < n; ++i) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) break;
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      close(fd);
      break;
    }
    (void)!write(fd, partial.data(), partial.size());
    fds.push_back(fd);
  }
  return fds;
}

// 1,100 half-sent requests against a devhost limited to 1,024 open files: the newest client is
// still answered within a second (the oldest waiting connections are shed to make room), and the
// server stays up and serves everyone afterwards.
TEST_F(Hostile, ConnectionsBeyondTheFileLimitShedTheOldestWaitingOnes) {
  rlimit mine{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &mine), 0);
  if (mine.rlim_cur < 1300) {
    mine.rlim_cur = std::min<rlim_t>(mine.rlim_max, 4096);
    ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &mine), 0);
  }
  ASSERT_GE(mine.rlim_cur, 1300u) << "the test itself needs 1,100+ sockets";
  start({}, 1024);

  std::vector<int> idle = half_sent_connections(host_->port(), 1100);
  ASSERT_EQ(idle.size(), 1100u);

  // A new client: a whole request, and its answer within one second.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  timeval tv{1, 0};
  ASSERT_EQ(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(host_->port());
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  const std::string req = "GET /demo/ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  ASSERT_EQ(write(fd, req.data(), req.size()), static_cast<ssize_t>(req.size()));
  std::string answer;
  char buf[4096];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) break;  // closed, or the one-second receive timeout
    answer.append(buf, static_cast<std::size_t>(n));
  }
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  close(fd);
  EXPECT_EQ(answer.rfind("HTTP/1.1 200", 0), 0u) << "after " << ms << " ms: " << answer.substr(0, 200);
  EXPECT_LT(ms, 1000);
  std::cout << "answered in " << ms << " ms with 1,100 half-sent connections open\n";

  // The oldest of the half-sent connections were closed by the server.
  int closed = 0;
  for (int i = 0; i < 200; ++i) {
    char b;
    timeval quick{0, 1000};
    setsockopt(idle[i], SOL_SOCKET, SO_RCVTIMEO, &quick, sizeof quick);
    if (read(idle[i], &b, 1) == 0) ++closed;
  }
  EXPECT_GT(closed, 0);
  for (int f : idle) close(f);
  HttpClient c = client();
  EXPECT_EQ(c.get("/demo/ping").status, 200);
}

// A client that sends a header a byte now and then (slowloris) is cut off once its header is
// not complete 10 s after its first byte, even though it never stops sending.
TEST_F(Hostile, AHeaderMustArriveWithinTenSeconds) {
  start();
  std::vector<int> fds = half_sent_connections(host_->port(), 1);
  ASSERT_EQ(fds.size(), 1u);
  const int fd = fds[0];
  timeval quick{0, 200'000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &quick, sizeof quick);
  const auto t0 = std::chrono::steady_clock::now();
  bool closed = false;
  while (!closed && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(20)) {
    (void)!send(fd, "X", 1, MSG_NOSIGNAL);  // one more byte of a header line that never ends
    char b;
    const ssize_t n = read(fd, &b, 1);
    closed = n == 0 || (n < 0 && errno == ECONNRESET);
  }
  const auto s = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - t0).count();
  close(fd);
  EXPECT_TRUE(closed) << "still open after " << s << " s";
  EXPECT_GE(s, 9);
  HttpClient c = client();
  EXPECT_EQ(c.get("/demo/ping").status, 200);
}

}  // namespace
