// The API Keys page's view model, built from fixed input with a fixed "now" (the test clock): what
// an admin sees for each key, the marks the guide asks for, the locked state, and that every page
// it builds is one the host can render, with hostile labels shown as text.
#include <string>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "pages/api_keys_page.hpp"
#include "render/render.hpp"

namespace json = boost::json;
using namespace mdp::api_access;

namespace {

// 2026-11-26T12:00:00Z
constexpr Micros kNow = 1'795'694'400LL * kMicrosPerSecond;
constexpr Micros kDay = kMicrosPerDay;

KeyRecord key(KeyId id, std::string label, Micros created_at) {
  KeyRecord k;
  k.id = id;
  k.clinic_id = 1;
  k.label = std::move(label);
  k.scopes = {"read"};
  k.preview = "mdp_\u2026a1B2";
  k.created_by = {1, "Dr. Olivia Hart"};
  k.created_at = created_at;
  return k;
}

ApiKeysPageInput input(std::vector<KeyRecord> keys, bool enabled = true) {
  ApiKeysPageInput in;
  in.now = kNow;
  in.api_access_enabled = enabled;
  in.keys = std::move(keys);
  in.scopes = {{"read", "Read patients and appointments", false},
               {"appointments:write", "Create appointments", true},
               {"patients:write", "Change patient records", true}};
  return in;
}

// The per-day requests ending today, oldest first.
std::vector<DayUsage> usage(const std::vector<std::uint64_t>& requests, std::uint64_t errors_today = 0) {
  std::vector<DayUsage> days;
  const DayNumber today = day_of(kNow);
  for (std::size_t i = 0; i < requests.size(); ++i) {
    DayUsage d;
    d.day = today - static_cast<DayNumber>(requests.size() - 1 - i);
    d.requests = requests[i];
    days.push_back(d);
  }
  if (!days.empty()) days.back().client_errors = errors_today;
  return days;
}

std::string dump(const json::object& vm) { return json::serialize(vm); }
bool has(const json::object& vm, const std::string& s) { return dump(vm).find(s) != std::string::npos; }

const json::object& first_row(const json::object& vm) {
  return vm.at("children").as_array().back().at("children").as_array()[0].at("rows").as_array()[0].as_object();
}
std::string cell(const json::object& vm, const char* column) { return json::serialize(first_row(vm).at("cells").at(column)); }

}  // namespace

TEST(ApiKeysPage, EmptyStateExplainsKeysAndOffersGenerate) {
  auto vm = build_api_keys_view_model(input({}));
  EXPECT_EQ(mdp::devhost::render::validate_view_model(vm), "");
  const auto& empty = vm.at("children").as_array()[0].as_object();
  EXPECT_EQ(empty.at("type"), "empty_state");
  EXPECT_NE(json::serialize(empty).find("your developer"), std::string::npos);
  EXPECT_NE(json::serialize(empty).find("\"opens\":\"generate-key\""), std::string::npos);
  EXPECT_TRUE(vm.contains("actions"));  // Generate new key in the page header too
}

TEST(ApiKeysPage, GenerateModalHasRequiredLabelAndReadOnlyPreselected) {
  auto vm = build_api_keys_view_model(input({}));
  const auto& modal = vm.at("modals").as_array()[0].as_object();
  EXPECT_EQ(modal.at("id"), "generate-key");
  const auto& form = modal.at("children").as_array()[0].as_object();
  EXPECT_EQ(form.at("action").at("route"), "keys");
  EXPECT_EQ(form.at("action").at("secret").at("field"), "secret");
  const auto& fields = form.at("fields").as_array();
  EXPECT_EQ(fields[0].at("name"), "label");
  EXPECT_EQ(fields[0].at("required"), true);
  EXPECT_NE(json::serialize(fields[0]).find("Power BI sync"), std::string::npos);
  EXPECT_NE(json::serialize(fields[0]).find("Website booking widget"), std::string::npos);
  const auto& options = fields[1].at("options").as_array();
  ASSERT_EQ(options.size(), 3u);
  EXPECT_EQ(options[0].at("value"), "read");
  EXPECT_EQ(options[0].at("checked"), true);
  EXPECT_FALSE(options[0].as_object().contains("warning"));
  for (std::size_t i = 1; i < options.size(); ++i) {
    EXPECT_FALSE(options[i].as_object().contains("checked")) << i;  // write scopes are opt-in
    EXPECT_TRUE(options[i].as_object().contains("warning")) << i;
  }
}

// Scopes in words with the raw name beside, and the rule people get wrong said where they choose.
TEST(ApiKeysPage, ScopesAreWordsWithTheRawNameAndWriteDoesNotIncludeRead) {
  auto vm = build_api_keys_view_model(input({}));
  const auto& scopes = vm.at("modals").as_array()[0].at("children").as_array()[0].at("fields").as_array()[1];
  const auto& options = scopes.at("options").as_array();
  EXPECT_EQ(options[0].at("label"), "Read-only (read)");
  EXPECT_EQ(options[1].at("label"), "Write appointments (appointments:write)");
  EXPECT_EQ(options[2].at("label"), "Write patients (patients:write)");
  EXPECT_NE(json::serialize(scopes.at("hint")).find("A write scope does not include read"), std::string::npos);

  auto k = key(7, "Widget", kNow - kDay);
  k.scopes = {"read", "appointments:write", "odd-scope"};
  vm = build_api_keys_view_model(input({k}));
  EXPECT_NE(cell(vm, "scopes").find(R"({"type":"badge","text":"Write appointments","tone":"warning"},{"type":"text","text":"appointments:write","tone":"muted"})"),
            std::string::npos) << cell(vm, "scopes");
  EXPECT_NE(cell(vm, "scopes").find(R"({"type":"badge","text":"odd-scope","tone":"warning"})"), std::string::npos);
}

// Never (the default), 30, 90 or 180 days, or a date: calendar dates of the clinic, which the
// API reads as "works through that day".
TEST(ApiKeysPage, GenerateOffersAnExpiry) {
  auto vm = build_api_keys_view_model(input({}));
  EXPECT_EQ(mdp::devhost::render::validate_view_model(vm), "");
  const auto& expiry = vm.at("modals").as_array()[0].at("children").as_array()[0].at("fields").as_array()[2].as_object();
  EXPECT_EQ(expiry.at("name"), "expires_at");
  EXPECT_EQ(expiry.at("multiple"), false);
  const auto& o = expiry.at("options").as_array();
  ASSERT_EQ(o.size(), 5u);
  EXPECT_EQ(o[0].at("label"), "Never");
  EXPECT_TRUE(o[0].at("value").is_null());
  EXPECT_EQ(o[0].at("checked"), true);
  EXPECT_EQ(o[1].at("value"), "2026-12-26");
  EXPECT_EQ(o[1].at("description"), "It works through 26 Dec 2026.");
  EXPECT_EQ(o[2].at("value"), "2027-02-24");
  EXPECT_EQ(o[3].at("value"), "2027-05-25");
  EXPECT_EQ(o[4].at("label"), "On a date");
  EXPECT_EQ(o[4].at("input").at("type"), "date");
  EXPECT_EQ(o[4].at("input").at("min"), "2026-11-26");
  EXPECT_NE(json::serialize(expiry.at("hint")).find("(UTC)"), std::string::npos);
}

// In Auckland (UTC+13 in November) it is already the 27th: the chart's last day, the expiry
// choices and every time shown follow the clinic, not UTC.
TEST(ApiKeysPage, DaysAndTimesFollowTheClinicsTimeZone) {
  auto k = key(7, "Widget", kNow - 3 * kDay);
  k.last_used_at = kNow - 2 * 3600 * kMicrosPerSecond;
  auto in = input({k});
  in.zone = *ClinicZone::find("Pacific/Auckland");
  in.usage[7] = {DayUsage{in.zone.day_of(kNow), 4, 0, 0}};
  auto vm = build_api_keys_view_model(in);
  EXPECT_EQ(mdp::devhost::render::validate_view_model(vm), "");
  const auto& chart = first_row(vm).at("cells").at("usage").as_array()[0].as_object();
  EXPECT_EQ(chart.at("bars").as_array().back().at("label"), "2026-11-27");
  EXPECT_EQ(chart.at("bars").as_array().back().at("value").to_number<int>(), 4);
  EXPECT_NE(cell(vm, "last_used").find(R"("datetime":"2026-11-26T23:00:00+13:00")"), std::string::npos) << cell(vm, "last_used");
  EXPECT_NE(cell(vm, "last_used").find(R"("title":"2026-11-26 23:00:00 NZDT")"), std::string::npos);
  const auto& expiry = vm.at("modals").as_array()[0].at("children").as_array()[0].at("fields").as_array()[2];
  EXPECT_EQ(expiry.at("options").as_array()[1].at("value"), "2026-12-27");
  EXPECT_EQ(expiry.at("options").as_array()[4].at("input").at("min"), "2026-11-27");
  EXPECT_NE(json::serialize(expiry.at("hint")).find("(Pacific/Auckland)"), std::string::npos);
}

// Edit: label and description as they are, only the key's own scopes (unticking reduces them;
// nothing wider is offered), the rate limit and the allowed addresses; all through PATCH.
TEST(ApiKeysPage, EditOffersOnlyNarrowerScopesAndShowsLimitsAndWhereFrom) {
  auto k = key(7, "Widget", kNow - kDay);
  k.scopes = {"read", "appointments:write"};
  k.description = "Booking widget on the website; ask Sam.";
  k.rate_limit = RateLimit{600, 60};
  k.allowed_ips = {"203.0.113.0/24", "2001:db8::/32"};
  k.last_used_at = kNow - 3600 * kMicrosPerSecond;
  k.last_used_address = "203.0.113.7";
  k.last_used_agent = "PowerBI/2.1 (Windows)";
  auto vm = build_api_keys_view_model(input({k}));
  EXPECT_EQ(mdp::devhost::render::validate_view_model(vm), "");
  EXPECT_NE(json::serialize(first_row(vm).at("actions")).find("\"opens\":\"edit-7\""), std::string::npos);
  const json::object* edit = nullptr;
  for (const auto& m : vm.at("modals").as_array())
    if (m.at("id") == "edit-7") edit = &m.as_object();
  ASSERT_NE(edit, nullptr);
  const auto& form = edit->at("children").as_array()[0].as_object();
  EXPECT_EQ(form.at("action").at("method"), "PATCH");
  EXPECT_EQ(form.at("action").at("route"), "keys/7");
  const auto& f = form.at("fields").as_array();
  EXPECT_EQ(f[0].at("value"), "Widget");
  EXPECT_EQ(f[1].at("value"), "Booking widget on the website; ask Sam.");
  const auto& scopes = f[2].at("options").as_array();
  ASSERT_EQ(scopes.size(), 2u);  // the key's own, never patients:write
  EXPECT_EQ(scopes[1].at("value"), "appointments:write");
  EXPECT_EQ(scopes[1].at("checked"), true);
  EXPECT_FALSE(has(*edit, "patients:write"));
  EXPECT_EQ(f[3].at("send_null"), true);
  EXPECT_NE(json::serialize(f[3]).find(R"({"value":{"requests":600,"per_seconds":60},"label":"600 requests per minute","checked":true})"),
            std::string::npos) << json::serialize(f[3]);
  EXPECT_EQ(f[4].at("list"), true);
  EXPECT_EQ(f[4].at("value"), "203.0.113.0/24\n2001:db8::/32");

  EXPECT_NE(cell(vm, "key").find("Booking widget on the website; ask Sam."), std::string::npos);
  EXPECT_NE(cell(vm, "scopes").find("Rate limit: 600 requests per minute"), std::string::npos);
  EXPECT_NE(cell(vm, "scopes").find(R"("text":"From 203.0.113.0/24 and 1 more","tone":"muted","title":"Allowed addresses: 203.0.113.0/24, 2001:db8::/32")"),
            std::string::npos) << cell(vm, "scopes");
  EXPECT_NE(cell(vm, "last_used").find("from 203.0.113.7"), std::string::npos);
  EXPECT_NE(cell(vm, "last_used").find("PowerBI/2.1 (Windows)"), std::string::npos);

  // A custom limit set through the API stays a choice of its own.
  k.rate_limit = RateLimit{5, 90};
  vm = build_api_keys_view_model(input({k}));
  EXPECT_TRUE(has(vm, R"x("label":"5 requests per 90 seconds (current)","checked":true)x"));
  k.rate_limit.reset();
  vm = build_api_keys_view_model(input({k}));
  EXPECT_TRUE(has(vm, R"({"value":null,"label":"Your plan's default","checked":true})"));
  EXPECT_TRUE(has(vm, "Rate limit: plan default"));
}

TEST(ApiKeysPage, AKeyRevokedOnALeakReportSaysWhereItWasFound) {
  auto k = key(7, "Widget", kNow - 10 * kDay);
  k.revoked_at = kNow - 3600 * kMicrosPerSecond;
  k.revoked_reason = "leak_report";
  k.leak_url = "https://github.com/example/site/blob/main/config.js";
  k.leak_source = "GitHub secret scanning";
  auto in = input({k});
  in.query.filter = KeyFilter::revoked;
  auto vm = build_api_keys_view_model(in);
  EXPECT_EQ(mdp::devhost::render::validate_view_model(vm), "");
  EXPECT_NE(cell(vm, "status").find("Revoked 1 hour ago because it was reported leaked"), std::string::npos) << cell(vm, "status");
  EXPECT_NE(cell(vm, "status").find("Found at https://github.com/example/site/blob/main/config.js (reported by GitHub secret scanning)"),
            std::string::npos);
  EXPECT_FALSE(first_row(vm).contains("actions"));
}

TEST(ApiKeysPage, ListsEveryKeyWithWhoWhenScopesPreviewAndStatus) {
  auto k = key(7, "Power BI sync", kNow - 3 * kDay);
  k.scopes = {"read", "appointments:write"};
  k.last_used_at = kNow - 2 * 3600 * kMicrosPerSecond;
  auto vm = build_api_keys_view_model(input({k}));
  EXPECT_EQ(mdp::devhost::render::validate_view_model(vm), "");
  EXPECT_EQ(first_row(vm).at("id"), "key-7");
  EXPECT_NE(cell(vm, "key").find("Power BI sync"), std::string::npos);
  EXPECT_NE(cell(vm, "key").find("mdp_\u2026a1B2"), std::string::npos);
  EXPECT_NE(cell(vm, "created").find("by Dr. Olivia Hart"), std::string::npos);
  EXPECT_NE(cell(vm, "created").find("3 days ago"), std::string::npos);
  EXPECT_NE(cell(vm, "last_used").find("\"datetime\":\"2026-11-26T10:00:00Z\",\"text\":\"2 hours ago\""), std::string::npos);
  EXPECT_NE(cell(vm, "scopes").find("Read-only"), std::string::npos);
  EXPECT_NE(cell(vm, "scopes").find("appointments:write"), std::string::npos);
  EXPECT_NE(cell(vm, "status").find("\"text\":\"Active\""), std::string::npos);
  // Revoke names the key in its confirmation; Rotate opens the key's own modal.
  auto actions = json::serialize(first_row(vm).at("actions"));
  EXPECT_NE(actions.find("keys/7/revoke"), std::string::npos);
  EXPECT_NE(actions.find("Revoke \u201CPower BI sync\u201D (mdp_\u2026a1B2)?"), std::string::npos);
  EXPECT_NE(actions.find("\"opens\":\"rotate-7\""), std::string::npos);
  EXPECT_TRUE(has(vm, "\"route\":\"keys/7/rotate\""));
}

TEST(ApiKeysPage, NeverUsedSaysNever) {
  auto vm = build_api_keys_view_model(input({key(1, "Widget", kNow - kDay)}));
  EXPECT_EQ(cell(vm, "last_used"), R"({"type":"text","text":"never","tone":"muted"})");
}

TEST(ApiKeysPage, RotationDueFromNinetyDaysOnActiveKeysOnly) {
  auto status_of = [](const KeyRecord& k) { return cell(build_api_keys_view_model(input({k})), "status"); };
  EXPECT_EQ(status_of(key(1, "a", kNow - 89 * kDay)).find("Rotation due"), std::string::npos);
  EXPECT_NE(status_of(key(1, "a", kNow - 90 * kDay)).find("Rotation due"), std::string::npos);
  auto revoked = key(1, "a", kNow - 120 * kDay);
  revoked.revoked_at = kNow - kDay;
  revoked.revoked_by = Actor{1, "Dr. Olivia Hart"};
  auto vm = build_api_keys_view_model(input({revoked}));
  EXPECT_EQ(cell(vm, "status").find("Rotation due"), std::string::npos);
  EXPECT_NE(cell(vm, "status").find("Revoked"), std::string::npos);
  EXPECT_FALSE(first_row(vm).contains("actions"));  // a revoked key never comes back
}

TEST(ApiKeysPage, UnusedForThirtyDaysHintsAtRevoking) {
  auto recent = key(1, "a", kNow - 100 * kDay);
  recent.last_used_at = kNow - 29 * kDay;
  EXPECT_EQ(cell(build_api_keys_view_model(input({recent})), "status").find("Unused for"), std::string::npos);
  recent.last_used_at = kNow - 31 * kDay;
  auto vm = build_api_keys_view_model(input({recent}));
  EXPECT_NE(cell(vm, "status").find("Unused for 31 days: if nothing uses it any more, revoke it."), std::string::npos);
  EXPECT_NE(cell(build_api_keys_view_model(input({key(1, "a", kNow - 30 * kDay)})), "status").find("Never used in 30 days"),
            std::string::npos);
  EXPECT_FALSE(has(build_api_keys_view_model(input({key(1, "a", kNow - 29 * kDay)})), "Never used"));
}

TEST(ApiKeysPage, SpikeWhenTodayIsFarAboveTheRecentDays) {
  auto k = key(1, "a", kNow - 60 * kDay);
  auto in = input({k});
  std::vector<std::uint64_t> days(30, 5);
  days.back() = 40;  // 8× the recent mean, 35 above it
  in.usage[1] = usage(days);
  auto vm = build_api_keys_view_model(in);
  EXPECT_NE(cell(vm, "status").find("Spike today"), std::string::npos);
  EXPECT_NE(cell(vm, "usage").find("\"tone\":\"warning\""), std::string::npos);  // today's bar
  EXPECT_NE(cell(vm, "usage").find("{\"label\":\"Today\",\"value\":\"40\"}"), std::string::npos);

  days.back() = 20;  // 4× the mean but only 15 above it: ordinary noise for a small key
  in.usage[1] = usage(days);
  EXPECT_FALSE(has(build_api_keys_view_model(in), "Spike"));

  auto fresh = key(2, "new", kNow - 3600 * kMicrosPerSecond);  // created today: no baseline
  auto in2 = input({fresh});
  in2.usage[2] = usage({500});
  EXPECT_FALSE(has(build_api_keys_view_model(in2), "Spike"));
}

TEST(ApiKeysPage, ChartHasThirtyDaysTodayAndErrorRate) {
  auto k = key(1, "a", kNow - 60 * kDay);
  auto in = input({k});
  in.usage[1] = usage({3, 4, 10}, 3);  // only three days stored: the rest are zero
  auto vm = build_api_keys_view_model(in);
  const auto& chart = first_row(vm).at("cells").at("usage").as_array()[0].as_object();
  ASSERT_EQ(chart.at("bars").as_array().size(), 30u);
  EXPECT_EQ(chart.at("bars").as_array().back().at("label"), "2026-11-26");
  EXPECT_EQ(chart.at("bars").as_array().back().at("value").to_number<int>(), 10);
  EXPECT_EQ(chart.at("bars").as_array()[0].at("value").to_number<int>(), 0);
  EXPECT_NE(cell(vm, "usage").find("{\"label\":\"30 days\",\"value\":\"17\"}"), std::string::npos);
  EXPECT_NE(cell(vm, "usage").find("\"text\":\"18%\",\"tone\":\"danger\""), std::string::npos);  // 3 of 17
}

TEST(ApiKeysPage, ARotationThatFinishesItselfSaysWhatItWaitsFor) {
  auto old_key = key(1, "Accounting export", kNow - 100 * kDay);
  old_key.last_used_at = kNow - 3 * 3600 * kMicrosPerSecond;
  old_key.last_used_address = "10.0.0.5";
  auto new_key = key(2, "Accounting export", kNow - 4 * 3600 * kMicrosPerSecond);
  new_key.rotated_from = 1;
  new_key.preview = "mdp_\u2026Zz99";
  WaitingRotation w;
  w.old_key_id = 1;
  w.new_key_id = 2;
  w.new_preview = new_key.preview;
  w.old_created_at = old_key.created_at;
  w.old_last_used_at = old_key.last_used_at;
  w.old_last_used_address = "10.0.0.5";
  auto in = input({new_key, old_key});
  in.auto_rotations[1] = w;
  auto rows = [](const json::object& vm) {
    return vm.at("children").as_array().back().at("children").as_array()[0].at("rows").as_array();
  };
  auto vm = build_api_keys_view_model(in);
  auto status = json::serialize(rows(vm)[1].at("cells").at("status"));
  EXPECT_NE(status.find("Finishing rotation"), std::string::npos) << status;
  EXPECT_NE(status.find("Waiting for the new key's first successful request; old key last used 3 hours ago from 10.0.0.5"),
            std::string::npos) << status;
  EXPECT_EQ(status.find("Zz99\"}"), std::string::npos);  // the new key's preview only on hover
  auto actions = json::serialize(rows(vm)[1].at("actions"));
  EXPECT_NE(actions.find("\"route\":\"keys/1/rotation/finish\""), std::string::npos) << actions;
  EXPECT_NE(actions.find("\"route\":\"keys/1/rotation/cancel\""), std::string::npos) << actions;
  EXPECT_EQ(json::serialize(rows(vm)[0].at("cells").at("status")).find("Finishing"), std::string::npos);

  in.auto_rotations[1].new_key_successes = 1;  // the integration switched
  status = json::serialize(rows(build_api_keys_view_model(in))[1].at("cells").at("status"));
  EXPECT_NE(status.find("Waiting: old key last used 3 hours ago from 10.0.0.5"), std::string::npos) << status;
  EXPECT_NE(status.find("Revoked automatically in 21 hours if it stays unused"), std::string::npos) << status;
  EXPECT_EQ(mdp::devhost::render::validate_view_model(build_api_keys_view_model(in)), "");
}

TEST(ApiKeysPage, RotatedKeySaysHowLongItStillWorks) {
  auto old_key = key(1, "Power BI sync", kNow - 100 * kDay);
  old_key.expires_at = kNow + 7 * kDay;
  auto new_key = key(2, "Power BI sync", kNow);
  new_key.rotated_from = 1;
  new_key.preview = "mdp_\u2026Zz99";
  auto vm = build_api_keys_view_model(input({new_key, old_key}));
  auto old_status = json::serialize(vm.at("children").as_array().back().at("children").as_array()[0].at("rows").as_array()[1].at("cells").at("status"));
  EXPECT_NE(old_status.find("\"text\":\"Rotated\""), std::string::npos);
  EXPECT_NE(old_status.find("Replaced by the key mdp_\u2026Zz99."), std::string::npos);
  EXPECT_NE(old_status.find("Still works until 2026-12-03 12:00 UTC (in 7 days)"), std::string::npos);
  // The replaced key can still be revoked, but not rotated again.
  auto old_actions = json::serialize(vm.at("children").as_array().back().at("children").as_array()[0].at("rows").as_array()[1].at("actions"));
  EXPECT_NE(old_actions.find("keys/1/revoke"), std::string::npos);
  EXPECT_EQ(old_actions.find("Rotate"), std::string::npos);
  EXPECT_FALSE(has(vm, "\"id\":\"rotate-1\""));
  EXPECT_TRUE(has(vm, "\"id\":\"rotate-2\""));

  old_key.expires_at.reset();
  vm = build_api_keys_view_model(input({new_key, old_key}));
  EXPECT_TRUE(has(vm, "Still works until you revoke it"));
}

TEST(ApiKeysPage, LockedPlanSaysSoLinksToBillingAndListsKeysReadOnly) {
  auto vm = build_api_keys_view_model(input({key(1, "Power BI sync", kNow - kDay)}, false));
  EXPECT_EQ(mdp::devhost::render::validate_view_model(vm), "");
  const auto& notice = vm.at("children").as_array()[0].as_object();
  EXPECT_EQ(notice.at("type"), "notice");
  EXPECT_EQ(notice.at("link").at("href"), "/settings/billing");
  EXPECT_FALSE(vm.contains("actions"));  // no Generate button
  EXPECT_TRUE(vm.at("modals").as_array().empty());
  EXPECT_FALSE(first_row(vm).contains("actions"));
  EXPECT_NE(cell(vm, "status").find("Paused"), std::string::npos);
  EXPECT_FALSE(has(vm, "Generate new key"));

  auto empty = build_api_keys_view_model(input({}, false));
  // Locked: nothing says a key can be generated here now.
  EXPECT_FALSE(has(empty, "You generate a key here"));
  EXPECT_TRUE(has(empty, "once your plan includes API access"));
  EXPECT_FALSE(has(empty, "\"opens\""));
  EXPECT_FALSE(has(empty, "\"action\""));
}

TEST(ApiKeysPage, HostileLabelIsDataAndRendersAsText) {
  auto vm = build_api_keys_view_model(input({key(1, "<script>alert(1)</script>", kNow - kDay)}));
  mdp::devhost::render::PageChrome chrome;
  chrome.user_name = "Admin";
  chrome.action_base = "/plugins/api-access/";
  std::string err;
  auto html = mdp::devhost::render::render_settings_page(vm, chrome, &err);
  ASSERT_EQ(err, "");
  EXPECT_EQ(html.find("<script>alert(1)"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
}

TEST(ApiKeysPage, RelativeTimes) {
  EXPECT_EQ(relative_time(kNow, kNow), "just now");
  EXPECT_EQ(relative_time(kNow - 60 * kMicrosPerSecond, kNow), "1 minute ago");
  EXPECT_EQ(relative_time(kNow - 5 * 3600 * kMicrosPerSecond, kNow), "5 hours ago");
  EXPECT_EQ(relative_time(kNow - kDay, kNow), "1 day ago");
  EXPECT_EQ(relative_time(kNow - 45 * kDay, kNow), "45 days ago");
  EXPECT_EQ(relative_time(kNow - 90 * kDay, kNow), "3 months ago");
  EXPECT_EQ(relative_time(kNow - 800 * kDay, kNow), "2 years ago");
  EXPECT_EQ(relative_time(kNow + 7 * kDay, kNow), "in 7 days");
  EXPECT_EQ(relative_time(kNow + 7 * kDay - 500'000, kNow), "in 7 days");  // half a second short
  EXPECT_EQ(relative_time(kNow + 30 * kMicrosPerSecond, kNow), "in less than a minute");
  EXPECT_EQ(relative_time(kNow + 61 * kMicrosPerSecond, kNow), "in 2 minutes");
  EXPECT_EQ(relative_time(kNow - 7 * kDay + 500'000, kNow), "6 days ago");
}

// Type confusion everywhere: every value of a real page, replaced in turn by each JSON kind, must
// render either as a page or as the error notice, never throw or crash (run under ASan too).
namespace {
void mutate_each(json::value& root, json::value& node, std::size_t& renders) {
  static const json::value kinds[] = {nullptr, true, -1, 1.5, "x", json::array{}, json::object{}, "<script>alert(1)</script>"};
  auto check = [&] {
    mdp::devhost::render::PageChrome chrome;
    std::string err;
    std::string html;
    EXPECT_NO_THROW(html = mdp::devhost::render::render_settings_page(root, chrome, &err));
    EXPECT_EQ(html.find("<script>alert"), std::string::npos);
    ++renders;
  };
  if (node.is_object()) {
    for (auto& kv : node.as_object()) {
      json::value saved = kv.value();
      for (const auto& k : kinds) {
        kv.value() = k;
        check();
      }
      kv.value() = saved;
      mutate_each(root, kv.value(), renders);
    }
  } else if (node.is_array()) {
    for (auto& v : node.as_array()) {
      json::value saved = v;
      for (const auto& k : kinds) {
        v = k;
        check();
      }
      v = saved;
      mutate_each(root, v, renders);
    }
  }
}
}  // namespace

TEST(ApiKeysPage, EveryMutationRendersOrShowsTheErrorNotice) {
  auto k = key(1, "Power BI sync", kNow - 100 * kDay);
  auto in = input({k});
  in.usage[1] = usage({1, 2, 3});
  // Keep the tree small enough to try every value: a 3-day chart instead of 30 bars.
  json::value vm = build_api_keys_view_model(in);
  auto& bars = vm.at("children").as_array().back().at("children").as_array()[0].at("rows").as_array()[0]
                   .at("cells").at("usage").as_array()[0].at("bars").as_array();
  bars.erase(bars.begin(), bars.end() - 3);
  std::size_t renders = 0;
  mutate_each(vm, vm, renders);
  EXPECT_GT(renders, 1000u);
}
