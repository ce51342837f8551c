// The integrator's guide (docs/integrating.md) runs: its curl, Python and JavaScript examples
// (examples/integrating/) against one devhost on a fresh SQLite file (--test-clock), with keys
// made through the admin API and handed over in the environment only, the way the guide tells
// an integrator to keep them. Each example must list the clinic's patients and appointments,
// stop with the code on every refusal a key holder can meet, wait out a 429 for the
// Retry-After it names, and give up when that wait is too long; a rotated key keeps working
// through its grace period. No key may appear in what an example prints or the devhost logs.
//
// One devhost for the whole binary (ctest runs it as one test): each case makes its own keys.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <functional>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "support/devhost_process.hpp"
#include "support/http_client.hpp"
#include "support/temp_dir.hpp"

extern char** environ;

namespace mdp::integrating_test {
namespace {

namespace json = boost::json;
using mdp::test::DevhostOptions;
using mdp::test::DevhostProcess;
using mdp::test::HttpClient;
using mdp::test::HttpResult;
using mdp::test::LoginSession;

constexpr const char* kKeys = "/plugins/api-access/keys";

// ---- running an example ---------------------------------------------------------------------

struct Example {
  const char* name;         // the test parameter
  const char* interpreter;  // found by CMake; empty when it was missing
  const char* file;         // in examples/integrating/
};
const Example kExamples[] = {
    {"curl", MDP_BASH, "list_patients.sh"},
    {"python", MDP_PYTHON3, "list_patients.py"},
    {"javascript", MDP_NODE, "list_patients.mjs"},
};

// gtest names the parameter in failure messages by this.
void PrintTo(const Example& e, std::ostream* os) { *os << e.name; }

struct ExampleRun {
  int exit_code = -1;  // 128 + signal if killed
  std::string out;     // standard output
  std::string err;     // standard error
};

using LineHandler = std::function<void(const std::string&)>;

// Runs examples/integrating/<file> `args` with `interpreter`, MDP_API_KEY = key, MDP_API_BASE = base
// and `extra_env` in its environment (the key never in a file or an argument), stdout and
// stderr through pipes. `on_err_line` sees each line of stderr as it arrives (e.g. to move the
// test clock while the example waits). Killed after 60 s.
ExampleRun run_script(const char* interpreter_path, const char* file, const std::vector<std::string>& args,
                      const std::string& base, const std::string& key,
                      const std::vector<std::string>& extra_env = {}, const LineHandler& on_err_line = {}) {
  std::vector<std::string> env_text;
  for (char** e = environ; *e != nullptr; ++e)
    if (std::string_view(*e).rfind("MDP_API_", 0) != 0) env_text.emplace_back(*e);
  env_text.push_back("MDP_API_BASE=" + base);
  env_text.push_back("MDP_API_KEY=" + key);
  env_text.insert(env_text.end(), extra_env.begin(), extra_env.end());
  std::vector<char*> envp;
  for (auto& e : env_text) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::string interpreter = interpreter_path;
  std::string script = std::string(MDP_EXAMPLES_DIR) + "/" + file;
  std::vector<std::string> arg_text = args;
  std::vector<char*> argv{interpreter.data(), script.data()};
  for (auto& a : arg_text) argv.push_back(a.data());
  argv.push_back(nullptr);

  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {  // only async-signal-safe calls until exec
    dup2(out_pipe[1], STDOUT_FILENO);
    dup2(err_pipe[1], STDERR_FILENO);
    if (chdir(MDP_EXAMPLES_DIR) != 0) _exit(126);
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  close(out_pipe[1]);
  close(err_pipe[1]);

  ExampleRun run;
  std::string partial;  // stderr since its last newline
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  int open_fds = 2;
  while (open_fds > 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    if (poll(fds, 2, static_cast<int>(left.count())) < 0) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buf[4096];
      const ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n <= 0) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
        continue;
      }
      if (i == 0) {
        run.out.append(buf, static_cast<std::size_t>(n));
        continue;
      }
      run.err.append(buf, static_cast<std::size_t>(n));
      partial.append(buf, static_cast<std::size_t>(n));
      for (auto nl = partial.find('\n'); nl != std::string::npos; nl = partial.find('\n')) {
        if (on_err_line) on_err_line(partial.substr(0, nl));
        partial.erase(0, nl + 1);
      }
    }
  }
  if (open_fds > 0) kill(pid, SIGKILL);  // past the deadline
  for (auto& f : fds)
    if (f.fd >= 0) close(f.fd);
  int status = 0;
  waitpid(pid, &status, 0);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return run;
}

ExampleRun run_example(const Example& example, const std::string& base, const std::string& key,
                       const LineHandler& on_err_line = {}) {
  return run_script(example.interpreter, example.file, {}, base, key, {}, on_err_line);
}

std::string describe(const ExampleRun& r) {
  return "exit " + std::to_string(r.exit_code) + "\n--- stdout:\n" + r.out + "--- stderr:\n" + r.err;
}

// ---- the devhost, shared by every case -------------------------------------------------------

json::value parse(const HttpResult& r) {
  json::error_code ec;
  auto v = json::parse(r.body, ec);
  EXPECT_FALSE(ec) << "not JSON (" << r.status << "): " << r.body;
  return v;
}

class Examples : public ::testing::TestWithParam<Example> {
 protected:
  static void SetUpTestSuite() {
    dir_ = new mdp::test::TempDir();
    DevhostOptions o;
    o.database = mdp::test::sqlite_database(*dir_);
    devhost_ = new DevhostProcess(o);
    devhost_->start();
    http_ = new HttpClient("127.0.0.1", devhost_->port());
    secrets_ = new std::vector<std::string>();
  }
  static void TearDownTestSuite() {
    delete http_;
    devhost_->stop();
    // The devhost's log must hold none of the keys the cases made.
    const std::string log = devhost_->stderr_text();
    for (const auto& s : *secrets_) EXPECT_EQ(log.find(s.substr(4)), std::string::npos) << "a key is in the devhost's log";
    delete secrets_;
    delete devhost_;
    delete dir_;
  }

  void SetUp() override {
    if (std::string_view(GetParam().interpreter).empty())
      FAIL() << "the interpreter for the " << GetParam().name << " example was not found when CMake ran";
  }

  static std::string base() { return devhost_->base_url(); }

  static LoginSession login(const char* email = "owner@brightsmiles.test") {
    auto s = mdp::test::login(*http_, email);
    EXPECT_TRUE(s) << "login failed for " << email;
    return s.value_or(LoginSession{});
  }
  static HttpResult admin_post(const LoginSession& s, const std::string& path, const std::string& body = "") {
    return http_->post(path, body, s.headers(true, {{"Content-Type", "application/json"}}));
  }
  // Creates a key (`fields`: the create body's other members); returns {id, secret}.
  static std::pair<long long, std::string> create(const LoginSession& s, json::object fields = {}) {
    if (!fields.contains("label")) fields["label"] = "Integration guide example";
    if (!fields.contains("scopes")) fields["scopes"] = json::array{"read"};
    auto r = admin_post(s, kKeys, json::serialize(fields));
    EXPECT_EQ(r.status, 201) << r.body;
    if (r.status != 201) return {0, ""};
    auto v = parse(r);
    std::string secret(v.at("secret").as_string());
    secrets_->push_back(secret);
    return {v.at("key").at("id").as_int64(), secret};
  }
  static void revoke(const LoginSession& s, long long id) {
    auto r = admin_post(s, std::string(kKeys) + "/" + std::to_string(id) + "/revoke");
    ASSERT_EQ(r.status, 200) << r.body;
  }
  static void advance(double seconds) {
    auto r = http_->post("/__test/clock", json::serialize(json::object{{"advance_seconds", seconds}}),
                         {{"Content-Type", "application/json"}});
    ASSERT_EQ(r.status, 200) << r.body;
  }
  // Moves the test clock forward to the next whole second that lies `offset` seconds into a
  // window of `period` seconds (windows aligned to the Unix epoch, as the rate limit's are).
  static void align_clock(long long period, long long offset) {
    auto r = http_->get("/__test/clock");
    ASSERT_EQ(r.status, 200);
    const std::string now(parse(r).at("now").as_string());
    std::tm tm{};
    ASSERT_NE(strptime(now.c_str(), "%Y-%m-%dT%H:%M:%S", &tm), nullptr) << now;
    const long long t = static_cast<long long>(timegm(&tm));
    long long target = t - t % period + offset;
    if (target <= t) target += period;
    const std::time_t tt = static_cast<std::time_t>(target);
    std::tm out{};
    gmtime_r(&tt, &out);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &out);
    auto set = http_->post("/__test/clock", json::serialize(json::object{{"set", text}}),
                           {{"Content-Type", "application/json"}});
    ASSERT_EQ(set.status, 200) << set.body;
  }

  // What the example should print for the clinic, from the API's own answers.
  static std::string expected_listing(const std::string& secret) {
    const mdp::test::Headers auth{{"Authorization", "Bearer " + secret}};
    auto p = parse(http_->get("/api/v1/patients", auth));
    auto a = parse(http_->get("/api/v1/appointments", auth));
    std::string s = "clinic: " + std::string(p.at("clinic").at("name").as_string()) + "\n";
    s += "patients: " + std::to_string(p.at("patients").as_array().size()) + "\n";
    for (const auto& v : p.at("patients").as_array())
      s += "  #" + std::to_string(v.at("id").as_int64()) + " " + std::string(v.at("first_name").as_string()) + " " +
           std::string(v.at("last_name").as_string()) + ", born " + std::string(v.at("birth_date").as_string()) + "\n";
    s += "appointments: " + std::to_string(a.at("appointments").as_array().size()) + "\n";
    for (const auto& v : a.at("appointments").as_array())
      s += "  #" + std::to_string(v.at("id").as_int64()) + " " + std::string(v.at("starts_at").as_string()) +
           " patient #" + std::to_string(v.at("patient_id").as_int64()) + ", " +
           std::to_string(v.at("duration_minutes").as_int64()) + " min: " + std::string(v.at("reason").as_string()) + "\n";
    return s;
  }

  static void expect_no_secret(const ExampleRun& r, const std::string& secret) {
    EXPECT_EQ(r.out.find(secret.substr(4)), std::string::npos) << "the example printed the key";
    EXPECT_EQ(r.err.find(secret.substr(4)), std::string::npos) << "the example printed the key";
  }

  static mdp::test::TempDir* dir_;
  static DevhostProcess* devhost_;
  static HttpClient* http_;
  static std::vector<std::string>* secrets_;
};
mdp::test::TempDir* Examples::dir_ = nullptr;
DevhostProcess* Examples::devhost_ = nullptr;
HttpClient* Examples::http_ = nullptr;
std::vector<std::string>* Examples::secrets_ = nullptr;

TEST_P(Examples, ListsPatientsAndAppointments) {
  const auto owner = login();
  auto [id, secret] = create(owner, {{"label", "Power BI sync"}});
  const ExampleRun run = run_example(GetParam(), base(), secret);
  ASSERT_EQ(run.exit_code, 0) << describe(run);
  expect_no_secret(run, secret);
  // The listing, then the RateLimit field of the second answer: the plan's default of 600 per
  // 60 s, two requests made.
  const std::string listing = expected_listing(secret);
  ASSERT_EQ(run.out.substr(0, listing.size()), listing) << describe(run);
  EXPECT_TRUE(std::regex_match(run.out.substr(listing.size()), std::regex("requests left: 598 for ([1-9]|[1-5][0-9]|60) s\n")))
      << describe(run);
  EXPECT_EQ(run.err.find("refused"), std::string::npos) << describe(run);
}

// Every refusal that needs a person: exit 1, the code and the server's message on stderr,
// nothing on stdout, and no retry.
TEST_P(Examples, StopsOnEachRefusalWithItsCode) {
  const auto owner = login();
  struct Case {
    std::string what, secret, code, expect;
  };
  std::vector<Case> cases;

  auto [revoked_id, revoked] = create(owner);
  revoke(owner, revoked_id);
  cases.push_back({"revoked key", revoked, "revoked_api_key", "refused: HTTP 401 revoked_api_key: "});

  auto [writer_id, writer] = create(owner, {{"label", "Booking widget"}, {"scopes", json::array{"appointments:write"}}});
  cases.push_back({"write-only key", writer, "insufficient_scope", "refused: HTTP 403 insufficient_scope: "});

  // The other codes take the same path in every example (any code but the two retried ones
  // stops); the Python example meets them all.
  std::optional<LoginSession> lakeside;
  struct Restore {  // the next case finds Lakeside's addon back, whatever happens here
    const std::optional<LoginSession>& s;
    ~Restore() {
      if (s) {
        EXPECT_EQ(http_->post("/billing/addons/api_access", "", s->headers()).status / 100, 2);
      }
    }
  } restore{lakeside};
  if (std::string_view(GetParam().name) == "python") {
    auto [far_id, far] = create(owner, {{"allowed_ips", json::array{"192.0.2.0/24"}}});
    cases.push_back({"key for another address", far, "ip_not_allowed", "refused: HTTP 403 ip_not_allowed: "});

    // One character changed: the checksum no longer holds.
    std::string mistyped = revoked;
    mistyped[10] = mistyped[10] == 'A' ? 'B' : 'A';
    cases.push_back({"mistyped key", mistyped, "invalid_api_key", "refused: HTTP 401 invalid_api_key: "});

    // A key of a clinic whose plan lost API access (Lakeside: Professional + the addon).
    lakeside = login("admin@lakeside.test");
    auto [lake_id, lake] = create(*lakeside);
    ASSERT_EQ(http_->request("DELETE", "/billing/addons/api_access", "", lakeside->headers()).status / 100, 2);
    cases.push_back({"plan without API access", lake, "api_access_not_enabled", "refused: HTTP 403 api_access_not_enabled: "});
  }

  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    const ExampleRun run = run_example(GetParam(), base(), c.secret);
    EXPECT_EQ(run.exit_code, 1) << describe(run);
    EXPECT_EQ(run.out, "") << describe(run);
    EXPECT_EQ(run.err.rfind(c.expect, 0), 0u) << describe(run);
    // Every refusal links the catalogue's entry on the host.
    EXPECT_NE(run.err.find(" See " + base() + "/plugins/api-access/errors#" + c.code + "\n"), std::string::npos)
        << describe(run);
    // The scope refusal names the scope, from the error's "scope" field.
    if (c.code == "insufficient_scope") {
      EXPECT_NE(run.err.find("(the key needs the scope 'read')"), std::string::npos) << describe(run);
    }
    EXPECT_EQ(run.err.find("retrying"), std::string::npos) << describe(run);
    expect_no_secret(run, c.secret);
  }
}

// A key allowed 1 request a minute: the example's second request gets 429 rate_limited with
// Retry-After: 1 (the clock stands one second before the window ends). The example says so and
// sleeps; the test then moves the clock into the next window, and the retry succeeds.
TEST_P(Examples, WaitsOutRateLimitForRetryAfter) {
  const auto owner = login();
  auto [id, secret] = create(owner, {{"rate_limit", json::object{{"requests", 1}, {"per_seconds", 60}}}});
  align_clock(60, 59);
  int waits = 0;
  std::chrono::steady_clock::time_point told;
  const ExampleRun run = run_example(GetParam(), base(), secret, [&](const std::string& line) {
    if (line != "rate_limited: retrying in 1 s") return;
    if (waits++ == 0) {
      told = std::chrono::steady_clock::now();
      advance(1);
    }
  });
  const auto waited = std::chrono::steady_clock::now() - told;
  ASSERT_EQ(run.exit_code, 0) << describe(run);
  // Once, unless this test was too slow to move the clock within the second (then the example
  // met the same window again and waited again).
  EXPECT_GE(waits, 1) << describe(run);
  EXPECT_LE(waits, 3) << describe(run);
  // It slept through Retry-After before the retry that succeeded (an example that retried at
  // once would have finished within milliseconds of saying it waits).
  EXPECT_GE(waited, std::chrono::milliseconds(950)) << describe(run);
  expect_no_secret(run, secret);
  EXPECT_NE(run.out.find("appointments: "), std::string::npos) << describe(run);
  // The retried answer opened the next window: its one request used, all 60 s to go.
  EXPECT_NE(run.out.find("requests left: 0 for 60 s\n"), std::string::npos) << describe(run);
}

// A Retry-After longer than the example's 60 s: it stops with exit 2 rather than hang.
TEST_P(Examples, GivesUpWhenRetryAfterIsLong) {
  const auto owner = login();
  auto [id, secret] = create(owner, {{"rate_limit", json::object{{"requests", 1}, {"per_seconds", 3600}}}});
  align_clock(3600, 10);
  const ExampleRun run = run_example(GetParam(), base(), secret);
  EXPECT_EQ(run.exit_code, 2) << describe(run);
  EXPECT_EQ(run.out, "") << describe(run);
  EXPECT_EQ(run.err, "try again later: rate_limited: asked to wait 3590 s\n") << describe(run);
}

// Rotation as the guide tells it, with the Python example (the server's behaviour, the same for
// every language): the admin rotates with a grace period; the old key and the new one both
// work; the integration switches; the old key stops at the end of the grace period, or at once
// when revoked.
TEST_P(Examples, RotationWithoutDowntime) {
  if (std::string_view(GetParam().name) != "python") GTEST_SKIP() << "run with the Python example";
  const auto owner = login();
  auto rotate = [&](long long id, const std::string& body) {
    auto r = admin_post(owner, std::string(kKeys) + "/" + std::to_string(id) + "/rotate", body);
    EXPECT_EQ(r.status, 201) << r.body;
    std::string secret(parse(r).at("secret").as_string());
    secrets_->push_back(secret);
    return std::pair{parse(r).at("key").at("id").as_int64(), secret};
  };
  auto refused_with = [&](const std::string& key, const std::string& code) {
    const ExampleRun run = run_example(GetParam(), base(), key);
    EXPECT_EQ(run.exit_code, 1) << describe(run);
    EXPECT_EQ(run.err.rfind("refused: HTTP 401 " + code + ": ", 0), 0u) << describe(run);
  };

  auto [graced_id, graced] = create(owner, {{"label", "Power BI sync"}});
  auto [next_id, next] = rotate(graced_id, R"({"grace_seconds":86400})");
  EXPECT_EQ(run_example(GetParam(), base(), graced).exit_code, 0) << "the old key works during the grace period";
  EXPECT_EQ(run_example(GetParam(), base(), next).exit_code, 0);

  auto [revoked_id, revoked] = create(owner, {{"label", "Booking widget"}});
  auto [successor_id, successor] = rotate(revoked_id, "");
  EXPECT_EQ(run_example(GetParam(), base(), revoked).exit_code, 0) << "no grace given: works until revoked";
  revoke(owner, revoked_id);
  refused_with(revoked, "revoked_api_key");
  EXPECT_EQ(run_example(GetParam(), base(), successor).exit_code, 0);

  advance(86400 + 1);  // the first rotation's grace period is over
  refused_with(graced, "expired_api_key");
  EXPECT_EQ(run_example(GetParam(), base(), next).exit_code, 0);
}

// A key that leaked, revoked by whoever holds it (report_leaked_key.sh, curl + jq): the
// example says "revoked", the key stops at once, and a second report says "not_active".
TEST_P(Examples, ReportsALeakedKey) {
  if (std::string_view(GetParam().name) != "curl") GTEST_SKIP() << "a curl example only";
  const auto owner = login();
  auto [id, secret] = create(owner, {{"label", "Accounting export"}});
  const std::vector<std::string> where{"LEAK_URL=https://git.example/acme/sync/commit/4f2a"};
  const ExampleRun first = run_script(MDP_BASH, "report_leaked_key.sh", {}, base(), secret, where);
  EXPECT_EQ(first.exit_code, 0) << describe(first);
  EXPECT_EQ(first.out, "revoked\n") << describe(first);
  expect_no_secret(first, secret);
  const ExampleRun listing = run_example(GetParam(), base(), secret);
  EXPECT_EQ(listing.exit_code, 1) << describe(listing);
  EXPECT_EQ(listing.err.rfind("refused: HTTP 401 revoked_api_key: ", 0), 0u) << describe(listing);
  const ExampleRun again = run_script(MDP_BASH, "report_leaked_key.sh", {}, base(), secret);
  EXPECT_EQ(again.out, "not_active\n") << describe(again);
  // The clinic sees where it was found.
  auto keys = parse(http_->get(kKeys, owner.headers(false)));
  bool found = false;
  for (const auto& k : keys.at("keys").as_array())
    if (k.at("id").as_int64() == id) {
      found = true;
      EXPECT_EQ(k.at("revoked_reason"), "leak_report");
      EXPECT_EQ(k.at("leak").at("url"), "https://git.example/acme/sync/commit/4f2a");
    }
  EXPECT_TRUE(found);
}

// The booking widget's backend (book_appointment.mjs): a key with appointments:write books,
// and the appointment is there; a read-only key is refused with the scope it lacks; an unknown
// patient is refused with the host's code; nothing is booked by a refusal.
TEST_P(Examples, BooksAnAppointment) {
  if (std::string_view(GetParam().name) != "javascript") GTEST_SKIP() << "a JavaScript example only";
  const auto owner = login();
  auto [writer_id, writer] = create(owner, {{"label", "Booking widget"}, {"scopes", json::array{"appointments:write"}}});
  auto [reader_id, reader] = create(owner, {{"label", "Power BI sync"}});
  auto appointments = [&, reader = reader] {
    return parse(http_->get("/api/v1/appointments", {{"Authorization", "Bearer " + reader}})).at("appointments").as_array();
  };
  const std::size_t before = appointments().size();

  const ExampleRun booked = run_script(MDP_NODE, "book_appointment.mjs", {"2", "2027-01-05T09:30:00Z", "45", "Whitening"},
                                       base(), writer);
  ASSERT_EQ(booked.exit_code, 0) << describe(booked);
  expect_no_secret(booked, writer);
  const auto after = appointments();
  ASSERT_EQ(after.size(), before + 1);
  const json::value* made = nullptr;
  for (const auto& a : after)
    if (a.at("starts_at") == "2027-01-05T09:30:00Z") made = &a;
  ASSERT_NE(made, nullptr);
  EXPECT_EQ(booked.out, "booked #" + std::to_string(made->at("id").as_int64()) +
                            ": 2027-01-05T09:30:00Z patient #2, 45 min: Whitening\n");

  const ExampleRun read_only = run_script(MDP_NODE, "book_appointment.mjs", {"2", "2027-01-06T09:30:00Z"}, base(), reader);
  EXPECT_EQ(read_only.exit_code, 1) << describe(read_only);
  EXPECT_EQ(read_only.err.rfind("refused: HTTP 403 insufficient_scope: ", 0), 0u) << describe(read_only);
  EXPECT_NE(read_only.err.find("(the key needs the scope 'appointments:write')"), std::string::npos) << describe(read_only);

  const ExampleRun stranger = run_script(MDP_NODE, "book_appointment.mjs", {"999999", "2027-01-06T09:30:00Z"}, base(), writer);
  EXPECT_EQ(stranger.exit_code, 1) << describe(stranger);
  EXPECT_EQ(stranger.err.rfind("refused: HTTP 404 patient_not_found: ", 0), 0u) << describe(stranger);
  EXPECT_EQ(appointments().size(), before + 1) << "a refusal booked something";
}

INSTANTIATE_TEST_SUITE_P(Integrating, Examples, ::testing::ValuesIn(kExamples),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace mdp::integrating_test
