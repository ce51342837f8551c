// Disclosure accounting (disclosure/*, routes/disclosure_routes.*): what the host reports through
// on_api_records is kept per key, day, patient and access, written in batches exactly once
// (also through a database outage and a restart), exported per key and per patient as JSON and
// CSV that match the requests made, trimmed at the retention, and refused on bad input.
#include <atomic>
#include <map>
#include <thread>
#include <vector>

#include <soci/soci.h>

#include "plugin_context.hpp"
#include "plugin_test_host.hpp"
#include "routes/disclosure_routes.hpp"

namespace mdp::api_access::test {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

class DisclosureTest : public PluginTest {
 protected:
  // One allowed API request with `secret` whose handler touched these patients.
  void request(const std::string& secret, std::vector<host::RecordTouch> touched, int status = 200) {
    FakeApiRequest r;
    r.bearer(secret);
    host::ApiDecision d;
    reg_->hook->on_api_request(r, d);
    ASSERT_TRUE(d.allowed) << d.body;
    reg_->hook->on_api_records(d.token, touched.data(), touched.size());
    reg_->hook->on_api_response(d.token, status);
  }
  static host::RecordTouch read(std::int64_t patient) { return {"patient", patient, host::RecordAccess::read}; }
  static host::RecordTouch write(std::int64_t patient) { return {"patient", patient, host::RecordAccess::write}; }
  RouteResult csv(const std::string& target, const host::User& user = admin_a()) {
    return call_as("GET", target, "", user, "text/csv; charset=utf-8");
  }
  long long stored_rows() {
    std::size_t token = 0;
    soci::session* s = host_->db->borrow(5s, token);
    long long n = 0;
    *s << "SELECT COUNT(*) FROM api_access_disclosures", soci::into(n);
    host_->db->give_back(token);
    return n;
  }
};

TEST_P(DisclosureTest, PerKeyExportMatchesTheRequestsMade) {
  auto [a, sa] = create_key("Power BI sync");
  auto [b, sb] = create_key("Booking widget", R"(["read","appointments:write"])");
  // 2026-11-26: key a lists patients 1 and 2 three times; key b writes patient 2 once.
  for (int i = 0; i < 3; ++i) request(sa, {read(1), read(2)});
  request(sb, {write(2)});
  request(sa, {});  // a request that touched nothing
  advance(24h);
  // 2026-11-27: key a reads patient 3.
  request(sa, {read(3)});

  auto r = call("GET", "keys/" + std::to_string(a) + "/disclosures?from=2026-11-26&to=2026-11-27");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json.at("patients"), 3);
  const auto& rows = r.json.at("records").as_array();
  ASSERT_EQ(rows.size(), 3u) << r.body;
  EXPECT_EQ(rows[0].at("date"), "2026-11-26");
  EXPECT_EQ(rows[0].at("record_id"), 1);
  EXPECT_EQ(rows[0].at("access"), "read");
  EXPECT_EQ(rows[0].at("requests"), 3);
  EXPECT_EQ(rows[0].at("key").at("label"), "Power BI sync");
  EXPECT_EQ(rows[1].at("record_id"), 2);
  EXPECT_EQ(rows[1].at("requests"), 3);
  EXPECT_EQ(rows[2].at("date"), "2026-11-27");
  EXPECT_EQ(rows[2].at("record_id"), 3);
  EXPECT_EQ(rows[2].at("requests"), 1);

  auto c = csv("keys/" + std::to_string(a) + "/disclosures?from=2026-11-26&to=2026-11-27&format=csv");
  ASSERT_EQ(c.status, 200) << c.body;
  EXPECT_EQ(c.header("Content-Disposition"),
            "attachment; filename=\"api-key-" + std::to_string(a) + "-disclosures-2026-11-26-to-2026-11-27.csv\"");
  const std::string preview = rows[0].at("key").at("preview").as_string().c_str();
  const std::string day1 = "2026-11-26T09:30:00Z";  // the test clock's time of day
  const std::string expected =
      "date,key_id,key_label,key_preview,record_type,record_id,access,requests,first_at,last_at\r\n"
      "2026-11-26," + std::to_string(a) + ",Power BI sync," + preview + ",patient,1,read,3," + day1 + "," + day1 + "\r\n"
      "2026-11-26," + std::to_string(a) + ",Power BI sync," + preview + ",patient,2,read,3," + day1 + "," + day1 + "\r\n"
      "2026-11-27," + std::to_string(a) + ",Power BI sync," + preview + ",patient,3,read,1,2026-11-27T09:30:00Z,2026-11-27T09:30:00Z\r\n";
  EXPECT_EQ(c.body, expected);

  // Key b: its one write, and nothing of key a's.
  auto rb = call("GET", "keys/" + std::to_string(b) + "/disclosures?from=2026-11-26&to=2026-11-27");
  ASSERT_EQ(rb.json.at("records").as_array().size(), 1u);
  EXPECT_EQ(rb.json.at("records").at(0).at("access"), "write");
}

TEST_P(DisclosureTest, PerPatientShowsWhichOfTheClinicsKeysTouchedItAndWhen) {
  auto [a, sa] = create_key("reader");
  auto [b, sb] = create_key("writer", R"(["read","appointments:write"])");
  auto [other, so] = create_key("other clinic", R"(["read"])", admin_b());
  request(sa, {read(2)});
  advance(2h);
  request(sb, {write(2), read(2)});
  request(so, {read(2)});  // another clinic's key: not this clinic's business
  request(sa, {read(1)});

  auto r = call("GET", "patients/2/disclosures?from=2026-11-20&to=2026-11-26");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json.at("keys"), 2);
  const auto& rows = r.json.at("records").as_array();
  ASSERT_EQ(rows.size(), 3u) << r.body;
  EXPECT_EQ(rows[0].at("key").at("id"), a);
  EXPECT_EQ(rows[0].at("first_at"), "2026-11-26T09:30:00Z");
  EXPECT_EQ(rows[1].at("key").at("id"), b);
  EXPECT_EQ(rows[2].at("key").at("id"), b);
  EXPECT_EQ(rows[1].at("first_at"), "2026-11-26T11:30:00Z");
  std::set<std::string> accesses{std::string(rows[1].at("access").as_string()), std::string(rows[2].at("access").as_string())};
  EXPECT_EQ(accesses, (std::set<std::string>{"read", "write"}));

  auto c = csv("patients/2/disclosures?format=csv");
  ASSERT_EQ(c.status, 200) << c.body;
  EXPECT_NE(c.header("Content-Disposition").find("patient-2-disclosures-2026-10-28-to-2026-11-26.csv"),
            std::string::npos);
  EXPECT_EQ(std::count(c.body.begin(), c.body.end(), '\n'), 4);  // header + 3 rows
  EXPECT_EQ(c.body.find("other clinic"), std::string::npos);
  // Clinic B sees only its own key for the same patient id.
  auto rb = call("GET", "patients/2/disclosures", "", admin_b());
  ASSERT_EQ(rb.json.at("records").as_array().size(), 1u);
  EXPECT_EQ(rb.json.at("records").at(0).at("key").at("id"), other);
}

TEST_P(DisclosureTest, NoDatabaseWritePerRequestAndExactlyOnceThroughAnOutageAndARestart) {
  auto [a, sa] = create_key("reader");
  auto& ctx = *plugin_->context();
  request(sa, {});  // the key is now in the hook's cache: it works through a short outage
  ASSERT_TRUE(ctx.disclosures.flush());
  host_->faults->set_down(true);
  for (int i = 0; i < 50; ++i) request(sa, {read(1), read(2)});
  EXPECT_FALSE(ctx.disclosures.flush());  // down: kept
  EXPECT_FALSE(ctx.disclosures.flush());  // still down: the same batch, not a second one
  for (int i = 0; i < 10; ++i) request(sa, {read(1)});
  host_->faults->set_down(false);
  EXPECT_EQ(stored_rows(), 0);  // nothing was written per request
  ASSERT_TRUE(ctx.disclosures.flush());
  EXPECT_EQ(ctx.disclosures.pending(), 0u);
  for (int i = 0; i < 5; ++i) request(sa, {read(2)});
  restart_plugin();  // on_stop writes what was counted
  auto r = call("GET", "keys/" + std::to_string(a) + "/disclosures");
  const auto& rows = r.json.at("records").as_array();
  ASSERT_EQ(rows.size(), 2u) << r.body;
  EXPECT_EQ(rows[0].at("requests"), 60);
  EXPECT_EQ(rows[1].at("requests"), 55);
}

// Request threads count into tallies of their own while flushes run: nothing is lost or
// counted twice, also with more threads than there are tallies (they then share).
TEST_P(DisclosureTest, ConcurrentReportsAreCountedExactlyWhileFlushesRun) {
  auto [a, sa] = create_key("reader");
  ASSERT_EQ(call("PATCH", "keys/" + std::to_string(a), R"({"rate_limit":{"requests":1000000,"per_seconds":1}})").status,
            200);  // the test clock stands still: the plan's limit would refuse most of these
  auto& ctx = *plugin_->context();
  request(sa, {});  // cached: the threads below never wait for the database
  const auto run_threads = [&](int threads, int reports_each) {
    std::atomic<int> refused{0};
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
      pool.emplace_back([&, t] {
        FakeApiRequest r;
        r.bearer(sa);
        const host::RecordTouch touched[2] = {read(1), {"appointment", 100 + t, host::RecordAccess::write}};
        for (int i = 0; i < reports_each; ++i) {
          host::ApiDecision d;
          reg_->hook->on_api_request(r, d);
          if (!d.allowed) ++refused;
          reg_->hook->on_api_records(d.token, touched, 2);
          reg_->hook->on_api_response(d.token, 200);
        }
      });
    for (int f = 0; f < 20; ++f) ctx.disclosures.flush();  // while the threads count
    for (auto& th : pool) th.join();
    EXPECT_EQ(refused, 0);
  };
  run_threads(8, 500);
  const std::size_t kMax = DisclosureRecorder::kMaxTallies;
  run_threads(static_cast<int>(kMax) + 8, 20);  // more threads than tallies
  EXPECT_LE(ctx.disclosures.tallies(), kMax);
  ASSERT_TRUE(ctx.disclosures.flush());
  EXPECT_EQ(ctx.disclosures.pending(), 0u);

  auto r = call("GET", "keys/" + std::to_string(a) + "/disclosures");
  ASSERT_EQ(r.status, 200) << r.body;
  std::map<std::pair<std::string, std::int64_t>, std::int64_t> requests;
  for (const auto& row : r.json.at("records").as_array())
    requests[{std::string(row.at("record_type").as_string()), row.at("record_id").as_int64()}] +=
        row.at("requests").as_int64();
  EXPECT_EQ((requests[{"patient", 1}]), 8 * 500 + static_cast<std::int64_t>(kMax + 8) * 20);
  for (int t = 0; t < 8; ++t) EXPECT_EQ((requests[{"appointment", 100 + t}]), 500 + 20) << t;
  for (int t = 8; t < static_cast<int>(kMax) + 8; ++t) EXPECT_EQ((requests[{"appointment", 100 + t}]), 20) << t;
  EXPECT_EQ(requests.size(), 1 + kMax + 8);
}

// A thread that reported to one plugin instance reports to the next (after a restart) into a
// tally of the new instance, never into the old one's.
TEST_P(DisclosureTest, AThreadReportsToTheInstanceItCalls) {
  auto [a, sa] = create_key("reader");
  request(sa, {read(1)});
  restart_plugin();  // the old instance's on_stop writes its count
  request(sa, {read(1)});
  request(sa, {read(1)});
  ASSERT_TRUE(plugin_->context()->disclosures.flush());
  auto r = call("GET", "keys/" + std::to_string(a) + "/disclosures");
  ASSERT_EQ(r.json.at("records").as_array().size(), 1u) << r.body;
  EXPECT_EQ(r.json.at("records").at(0).at("requests"), 3);
}

TEST_P(DisclosureTest, ABatchWhoseCommitLandedIsNotAddedTwice) {
  auto [a, sa] = create_key("reader");
  auto& ctx = *plugin_->context();
  DisclosureRow row{a, day_of(ctx.now()), "patient", 7, host::RecordAccess::read, 4, ctx.now(), ctx.now()};
  EXPECT_TRUE(ctx.disclosure_store.write_batch("b-1", {row}));
  EXPECT_FALSE(ctx.disclosure_store.write_batch("b-1", {row}));  // the retry of a lost answer
  auto r = call("GET", "keys/" + std::to_string(a) + "/disclosures");
  ASSERT_EQ(r.json.at("records").as_array().size(), 1u);
  EXPECT_EQ(r.json.at("records").at(0).at("requests"), 4);
}

TEST_P(DisclosureTest, RetentionTrimsOldDays) {
  host_->settings_ = devhost::PluginSettings(std::vector<std::pair<std::string, std::string>>{{"disclosure_retention_days", "10"}});
  restart_plugin();
  auto [a, sa] = create_key("reader");
  request(sa, {read(1)});  // day 0
  advance(24h * 5);
  request(sa, {read(2)});  // day 5
  plugin_->background_tick();
  EXPECT_EQ(stored_rows(), 2);
  advance(24h * 5);  // day 10: day 0 is 11 days back, past a 10-day retention
  plugin_->background_tick();
  EXPECT_EQ(stored_rows(), 1);
  auto r = call("GET", "keys/" + std::to_string(a) + "/disclosures?from=2026-11-26&to=2026-12-05");
  ASSERT_EQ(r.json.at("records").as_array().size(), 1u);
  EXPECT_EQ(r.json.at("records").at(0).at("record_id"), 2);
  // A range longer than the retention is refused rather than silently cut.
  EXPECT_EQ(call("GET", "keys/" + std::to_string(a) + "/disclosures?from=2026-11-01&to=2026-12-05").error_code(),
            "invalid_range");
}

TEST_P(DisclosureTest, BadInputIsA4xx) {
  auto [a, sa] = create_key("reader");
  auto [other, so] = create_key("theirs", R"(["read"])", admin_b());
  const std::string base = "keys/" + std::to_string(a) + "/disclosures";
  EXPECT_EQ(call("GET", base + "?from=2026-11-27&to=2026-11-26").error_code(), "invalid_range");
  EXPECT_EQ(call("GET", base + "?from=2026-02-30").error_code(), "invalid_range");
  EXPECT_EQ(call("GET", base + "?from=yesterday").error_code(), "invalid_range");
  EXPECT_EQ(call("GET", base + "?to=2026-11-26T00:00:00Z").error_code(), "invalid_range");
  EXPECT_EQ(call("GET", base + "?format=xlsx").error_code(), "invalid_format");
  EXPECT_EQ(call("GET", base + "?from=1900-01-01&to=2026-11-26").error_code(), "invalid_range");
  EXPECT_EQ(call("GET", "keys/" + std::to_string(other) + "/disclosures").status, 404);
  EXPECT_EQ(call("GET", "keys/abc/disclosures").error_code(), "key_not_found");
  EXPECT_EQ(call("GET", "patients/-3/disclosures").error_code(), "patient_not_found");
  EXPECT_EQ(call("GET", "patients/0/disclosures").status, 404);
}

TEST(DisclosureCsv, FieldsAreQuotedAndFormulasDefused) {
  EXPECT_EQ(csv_field("Power BI sync"), "Power BI sync");
  EXPECT_EQ(csv_field("a,b"), "\"a,b\"");
  EXPECT_EQ(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
  EXPECT_EQ(csv_field("-1"), "'-1");
  EXPECT_EQ(csv_field("line\nbreak"), "\"line\nbreak\"");
}

INSTANTIATE_TEST_SUITE_P(Dialects, DisclosureTest,
                         ::testing::Values(host::Dialect::sqlite, host::Dialect::postgresql),
                         param_name);

}  // namespace
}  // namespace mdp::api_access::test
