// Disclosure accounting (disclosure/*, routes/disclosure_routes.*): what the host reports through
// on_api_records is kept per key, day, patient and access, written in batches exactly once
// (also through a database outage and a restart), exported per key and per patient as JSON and
// CSV that match the requests made, trimmed at the retention, and refused on bad input.
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
