// Over real HTTP through the devhost: the plugin's reminders reach the clinic's admins (GET
// /notifications, the bell on every settings page, e-mail files in the --outbox folder), once,
// also after a restart and with a second devhost process on the same database; and the demo
// API's handlers report the patients each request read or wrote, which the per-key and
// per-patient exports then list. Time is moved with the devhosts' test clocks.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "support/devhost_process.hpp"
#include "support/http_client.hpp"
#include "support/postgres_env.hpp"
#include "support/temp_dir.hpp"

namespace mdp::api_access::http_test {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;
using mdp::test::DevhostOptions;
using mdp::test::DevhostProcess;
using mdp::test::Headers;
using mdp::test::HttpClient;
using mdp::test::HttpResult;
using mdp::test::LoginSession;

constexpr const char* kOwner = "owner@brightsmiles.test";      // Bright Smiles admin
constexpr const char* kStaff = "frontdesk@brightsmiles.test";  // Bright Smiles staff: not told

json::value parse(const HttpResult& r) {
  json::error_code ec;
  auto v = json::parse(r.body, ec);
  EXPECT_FALSE(ec) << "not JSON (" << r.status << "): " << r.body;
  return v;
}

std::size_t eml_files(const fs::path& dir) {
  std::size_t n = 0;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".eml") ++n;
  return n;
}

class HttpRemindersTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "PostgreSQL") {
      MDP_PG_CONNINFO_OR_SKIP(pg);
      mdp::test::reset_pg_database(pg);
      database_ = pg;
    } else {
      database_ = mdp::test::sqlite_database(dir_);
    }
    devhost_ = start(outbox_);
    http_ = std::make_unique<HttpClient>("127.0.0.1", devhost_->port());
  }
  void TearDown() override {
    if (HasFailure() && devhost_) std::cerr << devhost_->stderr_text();
    if (devhost_) devhost_->stop();
  }
  std::unique_ptr<DevhostProcess> start(const fs::path& outbox) {
    DevhostOptions o;
    o.database = database_;
    o.extra_args = {"--outbox", outbox.string()};
    auto d = std::make_unique<DevhostProcess>(o);
    d->start();
    return d;
  }
  static void set_clock(HttpClient& c, const std::string& at) {
    auto r = c.post("/__test/clock", json::serialize(json::object{{"set", at}}), {{"Content-Type", "application/json"}});
    ASSERT_EQ(r.status, 200) << r.body;
  }
  LoginSession login(HttpClient& c, const char* email) {
    auto s = mdp::test::login(c, email);
    EXPECT_TRUE(s) << "login failed for " << email;
    return s.value_or(LoginSession{});
  }
  json::value notifications(HttpClient& c, const LoginSession& s) {
    auto r = c.get("/notifications", s.headers(false));
    EXPECT_EQ(r.status, 200) << r.body;
    return parse(r);
  }
  // Polls until the list holds at least `n` notifications (the plugin checks about once a
  // second after the clock moved); returns the last answer.
  json::value wait_for(HttpClient& c, const LoginSession& s, std::size_t n) {
    json::value v;
    for (int i = 0; i < 100; ++i) {
      v = notifications(c, s);
      if (v.at("notifications").as_array().size() >= n) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return v;
  }
  static std::set<std::string> subjects(const json::value& v) {
    std::set<std::string> out;
    for (const auto& n : v.at("notifications").as_array()) out.insert(std::string(n.at("subject").as_string()));
    return out;
  }

  mdp::test::TempDir dir_;
  fs::path outbox_ = dir_ / "outbox";
  std::string database_;
  std::unique_ptr<DevhostProcess> devhost_;
  std::unique_ptr<HttpClient> http_;
};

TEST_P(HttpRemindersTest, RotationDueReachesTheAdminsOnceInTheAppAndByEmail) {
  set_clock(*http_, "2026-12-01T09:00:00Z");
  auto owner = login(*http_, kOwner);
  auto created = http_->post("/plugins/api-access/keys", R"({"label":"Power BI sync","scopes":["read"]})",
                             owner.headers(true, {{"Content-Type", "application/json"}}));
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string secret(parse(created).at("secret").as_string());
  EXPECT_EQ(notifications(*http_, owner).at("unread"), 0);

  // 91 days later: due for rotation, never used, and this week's digest saying both. (Moving
  // the clock that far ends the session: log in again.)
  set_clock(*http_, "2027-03-02T09:00:00Z");
  owner = login(*http_, kOwner);
  auto v = wait_for(*http_, owner, 3);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // a later round adds nothing
  v = notifications(*http_, owner);
  ASSERT_EQ(v.at("notifications").as_array().size(), 3u) << json::serialize(v);
  const auto subs = subjects(v);
  EXPECT_TRUE(subs.count("API key \"Power BI sync\" is due for rotation")) << json::serialize(v);
  EXPECT_TRUE(subs.count("API key \"Power BI sync\" has not been used for 91 days")) << json::serialize(v);
  EXPECT_TRUE(subs.count("API keys this week: 2 things to look at")) << json::serialize(v);
  EXPECT_EQ(v.at("unread"), 3);
  for (const auto& n : v.at("notifications").as_array()) {
    EXPECT_EQ(n.at("plugin"), "api-access");
    EXPECT_EQ(n.at("read"), false);
    EXPECT_EQ(std::string(n.at("body").as_string()).find(secret), std::string::npos);
  }

  // Staff are not the clinic's admins: nothing for them.
  const auto staff = login(*http_, kStaff);
  EXPECT_EQ(notifications(*http_, staff).at("notifications").as_array().size(), 0u);

  // The bell on every settings page says how many are unread.
  auto page = http_->get("/settings/billing", owner.headers(false));
  EXPECT_NE(page.body.find("aria-label=\"Notifications, 3 unread\""), std::string::npos);
  auto list_page = http_->get("/settings/notifications", owner.headers(false));
  EXPECT_EQ(list_page.status, 200);
  EXPECT_NE(list_page.body.find("is due for rotation"), std::string::npos);

  // One e-mail per message and admin, with the link as a URL on this host.
  ASSERT_EQ(eml_files(outbox_), 3u);
  bool found = false;
  for (const auto& e : fs::directory_iterator(outbox_)) {
    std::ifstream f(e.path());
    std::stringstream text;
    text << f.rdbuf();
    const std::string mail = text.str();
    EXPECT_NE(mail.find("To: \"Olivia Hart\" <owner@brightsmiles.test>\r\n"), std::string::npos) << mail;
    EXPECT_EQ(mail.find(secret), std::string::npos);
    if (mail.find("Subject: API key \"Power BI sync\" is due for rotation\r\n") != std::string::npos) {
      found = true;
      EXPECT_NE(mail.find("Open: " + devhost_->base_url() + "/settings/integrations/api-keys?q="), std::string::npos)
          << mail;
      EXPECT_NE(mail.find("Date: Tue, 02 Mar 2027 09:00:"), std::string::npos) << mail;
    }
  }
  EXPECT_TRUE(found);

  // Read: the bell clears.
  auto read = http_->post("/notifications/read", "", owner.headers(true));
  ASSERT_EQ(read.status, 200) << read.body;
  EXPECT_EQ(parse(read).at("unread"), 0);
  EXPECT_NE(http_->get("/settings/billing", owner.headers(false)).body.find("aria-label=\"Notifications\""),
            std::string::npos);

  // A restart (same database, clock set again, later) sends nothing twice.
  ASSERT_EQ(devhost_->stop(), 0) << devhost_->stderr_text();
  devhost_->start();
  http_ = std::make_unique<HttpClient>("127.0.0.1", devhost_->port());
  set_clock(*http_, "2027-03-02T10:00:00Z");
  const auto again = login(*http_, kOwner);
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  EXPECT_EQ(notifications(*http_, again).at("notifications").as_array().size(), 3u);
  EXPECT_EQ(eml_files(outbox_), 3u);
}

TEST_P(HttpRemindersTest, TwoDevhostsOnOneDatabaseTellEachAdminOnce) {
  set_clock(*http_, "2026-12-01T09:00:00Z");
  const auto creator = login(*http_, kOwner);
  for (const char* label : {"a", "b", "c"}) {
    auto r = http_->post("/plugins/api-access/keys", std::string(R"({"label":")") + label + R"("})",
                         creator.headers(true, {{"Content-Type", "application/json"}}));
    ASSERT_EQ(r.status, 201) << r.body;
  }
  // The same outbox folder, as two processes of one host would share it.
  auto other = start(outbox_);
  HttpClient other_http("127.0.0.1", other->port());
  // Both processes' clocks jump to the same moment: both check, each message is sent once.
  set_clock(other_http, "2027-03-15T09:00:00Z");
  set_clock(*http_, "2027-03-15T09:00:00Z");
  const auto owner = login(*http_, kOwner);
  // Per key: rotation due and unused; plus the clinic's digest.
  auto v = wait_for(*http_, owner, 7);
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  v = notifications(*http_, owner);
  EXPECT_EQ(v.at("notifications").as_array().size(), 7u) << json::serialize(v);
  const auto from_other = notifications(other_http, login(other_http, kOwner));
  EXPECT_EQ(from_other.at("notifications").as_array().size(), 7u);
  // One e-mail per message (a file per stored row, whichever process wrote it).
  EXPECT_EQ(eml_files(outbox_), 7u);
  other->stop();
}

TEST_P(HttpRemindersTest, TheDemoApiReportsPatientsAndTheExportsListThem) {
  set_clock(*http_, "2026-12-01T09:00:00Z");
  const auto owner = login(*http_, kOwner);
  const Headers json_post = owner.headers(true, {{"Content-Type", "application/json"}});
  auto created = http_->post("/plugins/api-access/keys", R"({"label":"Booking, widget","scopes":["read","appointments:write"]})",
                             json_post);
  ASSERT_EQ(created.status, 201) << created.body;
  const auto id = parse(created).at("key").at("id").as_int64();
  const std::string secret(parse(created).at("secret").as_string());
  const Headers bearer{{"Authorization", "Bearer " + secret}, {"Content-Type", "application/json"}};
  auto patients = http_->get("/api/v1/patients", bearer);
  ASSERT_EQ(patients.status, 200) << patients.body;
  std::vector<std::int64_t> ids;
  const auto listed = parse(patients);
  for (const auto& p : listed.at("patients").as_array()) ids.push_back(p.at("id").as_int64());
  ASSERT_EQ(ids.size(), 3u);
  ASSERT_EQ(http_->get("/api/v1/patients", bearer).status, 200);
  auto booked = http_->post("/api/v1/appointments",
                            R"({"patient_id":)" + std::to_string(ids[0]) + R"(,"starts_at":"2026-12-10T09:00:00Z"})", bearer);
  ASSERT_EQ(booked.status, 201) << booked.body;
  // A write that failed is not a write.
  ASSERT_EQ(http_->post("/api/v1/appointments", R"({"patient_id":999999,"starts_at":"2026-12-10T09:00:00Z"})", bearer).status,
            404);
  ASSERT_EQ(http_->get("/api/v1/ping", bearer).status, 200);  // touches no patient

  const std::string base = "/plugins/api-access/keys/" + std::to_string(id) + "/disclosures";
  auto csv = http_->get(base + "?from=2026-12-01&to=2026-12-01&format=csv", owner.headers(false));
  ASSERT_EQ(csv.status, 200) << csv.body;
  EXPECT_EQ(csv.header("Content-Type"), "text/csv; charset=utf-8");
  EXPECT_EQ(csv.header("Content-Disposition"),
            "attachment; filename=\"api-key-" + std::to_string(id) + "-disclosures-2026-12-01-to-2026-12-01.csv\"");
  const std::string preview(parse(created).at("key").at("preview").as_string());
  auto line = [&](std::int64_t patient, const char* access, int requests) {
    return "2026-12-01," + std::to_string(id) + ",\"Booking, widget\"," + preview + ",patient," +
           std::to_string(patient) + "," + access + "," + std::to_string(requests) +
           ",2026-12-01T09:00:00Z,2026-12-01T09:00:00Z\r\n";
  };
  EXPECT_EQ(csv.body, "date,key_id,key_label,key_preview,record_type,record_id,access,requests,first_at,last_at\r\n" +
                          line(ids[0], "read", 2) + line(ids[0], "write", 1) + line(ids[1], "read", 2) +
                          line(ids[2], "read", 2));

  auto per_patient = http_->get("/plugins/api-access/patients/" + std::to_string(ids[0]) +
                                    "/disclosures?from=2026-12-01&to=2026-12-01",
                                owner.headers(false));
  ASSERT_EQ(per_patient.status, 200) << per_patient.body;
  const auto v = parse(per_patient);
  EXPECT_EQ(v.at("keys"), 1);
  ASSERT_EQ(v.at("records").as_array().size(), 2u);
  EXPECT_EQ(v.at("records").at(0).at("key").at("id"), id);

  // Staff may not read the accounting; the page links each key's export.
  const auto staff = login(*http_, kStaff);
  EXPECT_EQ(http_->get(base, staff.headers(false)).status, 403);
  auto page = http_->get("/settings/integrations/api-keys", owner.headers(false));
  EXPECT_NE(page.body.find(base + "?format=csv"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Databases, HttpRemindersTest, ::testing::Values("SQLite", "PostgreSQL"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace mdp::api_access::http_test
