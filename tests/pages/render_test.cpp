// The devhost's renderer: escaping on the server, strictness (an unreadable view model is an error
// notice, never a crash or half a page), actions wired to the plugin's mount point, and the host
// pages that share the chrome (billing, login, index).
#include <string>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "render/assets.hpp"
#include "render/render.hpp"

namespace json = boost::json;
using namespace mdp::devhost::render;

namespace {

PageChrome chrome() {
  PageChrome c;
  c.title = "API Keys";
  c.nav = {{"Account", "Billing & Subscription", "/settings/billing"},
           {"Integrations", "API Keys", "/settings/integrations/api-keys"}};
  c.user_name = "Dr. Olivia Hart";
  c.clinic_name = "Bright Smiles Dental";
  c.csrf_token = "tok123";
  c.current_path = "/settings/integrations/api-keys";
  c.action_base = "/plugins/api-access/";
  return c;
}

json::object page(json::array children, json::array modals = {}, json::array actions = {}) {
  return {{"vm_version", 1}, {"type", "page"}, {"title", "T"}, {"children", std::move(children)},
          {"modals", std::move(modals)}, {"actions", std::move(actions)}};
}

std::string render_ok(const json::value& vm) {
  std::string err;
  auto html = render_settings_page(vm, chrome(), &err);
  EXPECT_EQ(err, "");
  return html;
}

bool invalid(const json::value& vm, std::string* why = nullptr) {
  std::string err;
  auto html = render_settings_page(vm, chrome(), &err);
  if (why) *why = err;
  return !err.empty() && html.find("This page could not be displayed") != std::string::npos &&
         html.find("API Keys</a>") != std::string::npos;  // the chrome is still there
}

const char* kHostile = "<script>alert(1)</script>\"'&";

}  // namespace

TEST(Render, EscapesEveryStringItShows) {
  json::object btn{{"type", "button"}, {"label", kHostile}, {"style", "danger"},
                   {"action", json::object{{"method", "POST"}, {"route", "keys/1/revoke"}, {"confirm", kHostile}}}};
  json::array children{
      json::object{{"type", "notice"}, {"title", kHostile}, {"text", kHostile}},
      json::object{{"type", "section"}, {"title", kHostile}, {"description", kHostile}, {"children", json::array{
          json::object{{"type", "table"}, {"caption", kHostile},
                       {"columns", json::array{json::object{{"key", "k"}, {"label", kHostile}}}},
                       {"rows", json::array{json::object{
                           {"cells", json::object{{"k", json::array{kHostile,
                               json::object{{"type", "badge"}, {"text", kHostile}, {"title", kHostile}},
                               json::object{{"type", "time"}, {"datetime", "2026-11-26T09:00:00Z"}, {"text", kHostile}},
                               json::object{{"type", "text"}, {"text", kHostile}, {"title", kHostile}}}}}},
                           {"actions", json::array{btn}}}}}}}}}};
  json::object pg = page(children);
  pg["title"] = kHostile;
  auto c = chrome();
  c.user_name = kHostile;
  c.clinic_name = kHostile;
  std::string err;
  auto html = render_settings_page(pg, c, &err);
  ASSERT_EQ(err, "");
  EXPECT_EQ(html.find("<script>alert"), std::string::npos);
  EXPECT_EQ(html.find("\"'&<"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;"), std::string::npos);
  // The page has exactly one <script> element: the host's own.
  std::size_t scripts = 0;
  for (auto p = html.find("<script"); p != std::string::npos; p = html.find("<script", p + 1)) ++scripts;
  EXPECT_EQ(scripts, 1u);
}

TEST(Render, EscapesJsonCarriedInAttributes) {
  json::object form{{"type", "form"}, {"submit_label", "Go"},
                    {"action", json::object{{"method", "POST"}, {"route", "keys"}, {"body", json::object{{"x", "\"><img src=x onerror=alert(1)>"}}},
                                            {"secret", json::object{{"field", "secret"}, {"title", "</dialog><script>x()"}}}}},
                    {"fields", json::array{json::object{{"type", "choice"}, {"name", "scopes"}, {"label", "S"}, {"multiple", true},
                                                        {"options", json::array{json::object{{"value", "\"><b>"}, {"label", "x"}}}}}}}};
  auto html = render_ok(page(json::array{form}));
  EXPECT_EQ(html.find("<img"), std::string::npos);
  EXPECT_EQ(html.find("<b>"), std::string::npos);
  EXPECT_EQ(html.find("</dialog><script>x()"), std::string::npos);
  EXPECT_NE(html.find("data-secret=\"{&quot;field&quot;:&quot;secret&quot;"), std::string::npos);
}

TEST(Render, ActionsPointAtThePluginMountWithConfirmation) {
  json::object btn{{"type", "button"}, {"label", "Revoke"},
                   {"action", json::object{{"method", "POST"}, {"route", "keys/7/revoke"}, {"confirm", "Revoke \u201CPower BI sync\u201D?"}}}};
  auto html = render_ok(page(json::array{json::object{{"type", "empty_state"}, {"title", "t"}, {"text", "x"}, {"actions", json::array{btn}}}}));
  EXPECT_NE(html.find("data-method=\"POST\" data-url=\"/plugins/api-access/keys/7/revoke\""), std::string::npos);
  EXPECT_NE(html.find("data-confirm=\"Revoke \u201CPower BI sync\u201D?\""), std::string::npos);
  EXPECT_NE(html.find("<meta name=\"csrf-token\" content=\"tok123\">"), std::string::npos);
}

TEST(Render, ModalsAreAccessibleDialogsOpenedByButtons) {
  json::object modal{{"type", "modal"}, {"id", "generate-key"}, {"title", "Generate new key"}, {"children", json::array{
      json::object{{"type", "form"}, {"action", json::object{{"method", "POST"}, {"route", "keys"}}},
                   {"fields", json::array{json::object{{"type", "text"}, {"name", "label"}, {"label", "Label"}, {"required", true},
                                                       {"hint", "e.g. Power BI sync"}}}}}}}};
  json::object open{{"type", "button"}, {"label", "Generate new key"}, {"opens", "generate-key"}};
  auto html = render_ok(page(json::array{}, json::array{modal}, json::array{open}));
  EXPECT_NE(html.find("<dialog class=\"modal\" id=\"modal-generate-key\" aria-modal=\"true\" aria-labelledby=\"modal-generate-key-title\">"), std::string::npos);
  EXPECT_NE(html.find("data-opens=\"modal-generate-key\" aria-haspopup=\"dialog\""), std::string::npos);
  // The label is tied to its input, and the hint described.
  auto label = html.find("<label for=\"vm-field-");
  ASSERT_NE(label, std::string::npos);
  EXPECT_NE(html.find("required aria-required=\"true\""), std::string::npos);
  EXPECT_NE(html.find("-hint\">e.g. Power BI sync</p>"), std::string::npos);
  EXPECT_NE(html.find("data-close>Cancel</button>"), std::string::npos);
}

TEST(Render, ChoiceOptionsCarryWarningsAndJsonValues) {
  json::object field{{"type", "choice"}, {"name", "grace_seconds"}, {"label", "Old key"}, {"multiple", false},
                     {"options", json::array{json::object{{"value", 604800}, {"label", "7 days"}, {"checked", true}},
                                             json::object{{"value", nullptr}, {"label", "Until revoked"}, {"warning", "Careful"}}}}};
  json::object form{{"type", "form"}, {"action", json::object{{"method", "POST"}, {"route", "keys/1/rotate"}}}, {"fields", json::array{field}}};
  auto html = render_ok(page(json::array{form}));
  EXPECT_NE(html.find("type=\"radio\""), std::string::npos);
  EXPECT_NE(html.find("data-value=\"604800\" checked"), std::string::npos);
  EXPECT_NE(html.find("data-value=\"null\""), std::string::npos);
  EXPECT_NE(html.find("class=\"option-warn\""), std::string::npos);
  EXPECT_NE(html.find("Careful</p>"), std::string::npos);
}

// Version 2 form parts for editing what exists: a text field's value, a textarea (a list of
// entries with "list"), object values, null sent on purpose, and an option with its own date input.
TEST(Render, EditFormPartsNeedVersion2AndEscapeTheirValues) {
  json::array fields{
      json::object{{"type", "text"}, {"name", "label"}, {"label", "Label"}, {"value", "Power \"BI\" <sync>"}},
      json::object{{"type", "textarea"}, {"name", "description"}, {"label", "Description"}, {"max_length", 1000},
                   {"value", "</textarea><script>alert(1)</script>"}},
      json::object{{"type", "textarea"}, {"name", "allowed_ips"}, {"label", "Allowed addresses"}, {"list", true},
                   {"value", "203.0.113.0/24\n2001:db8::/32"}},
      json::object{{"type", "choice"}, {"name", "rate_limit"}, {"label", "Rate limit"}, {"send_null", true},
                   {"options", json::array{json::object{{"value", nullptr}, {"label", "Plan default"}},
                                           json::object{{"value", json::object{{"requests", 600}, {"per_seconds", 60}}},
                                                        {"label", "600 per minute"}, {"checked", true}}}}},
      json::object{{"type", "choice"}, {"name", "expires_at"}, {"label", "Expires"},
                   {"options", json::array{json::object{{"value", nullptr}, {"label", "Never"}, {"checked", true}},
                                           json::object{{"value", nullptr}, {"label", "On a date"},
                                                        {"input", json::object{{"type", "date"}, {"label", "Last day"},
                                                                               {"min", "2026-11-26"}}}}}}}};
  json::object form{{"type", "form"}, {"action", json::object{{"method", "PATCH"}, {"route", "keys/1"}}}, {"fields", fields}};
  auto vm = page(json::array{form});
  EXPECT_NE(validate_view_model(vm).find("needs vm_version 2"), std::string::npos);
  vm["vm_version"] = 2;
  auto html = render_ok(vm);
  EXPECT_NE(html.find("value=\"Power &quot;BI&quot; &lt;sync&gt;\""), std::string::npos);
  EXPECT_NE(html.find("data-kind=\"textarea\""), std::string::npos);
  EXPECT_NE(html.find("&lt;/textarea&gt;&lt;script&gt;alert(1)&lt;/script&gt;</textarea>"), std::string::npos);
  EXPECT_EQ(html.find("<script>alert"), std::string::npos);
  EXPECT_NE(html.find("data-kind=\"list\""), std::string::npos);
  EXPECT_NE(html.find(">203.0.113.0/24\n2001:db8::/32</textarea>"), std::string::npos);
  EXPECT_NE(html.find("data-kind=\"single\" data-send-null"), std::string::npos);
  EXPECT_NE(html.find("data-value=\"{&quot;requests&quot;:600,&quot;per_seconds&quot;:60}\" checked"), std::string::npos);
  EXPECT_NE(html.find("type=\"date\""), std::string::npos);
  EXPECT_NE(html.find("min=\"2026-11-26\" disabled>"), std::string::npos);  // its option is not chosen
  // A bad bound, and an input on a multiple choice, make the page unreadable.
  vm["children"].as_array()[0].as_object()["fields"].as_array()[4].as_object()["options"].as_array()[1]
      .as_object()["input"].as_object()["min"] = "26.11.2026";
  EXPECT_NE(validate_view_model(vm).find("expected a date"), std::string::npos);
}

TEST(Render, BarChartIsOneLabelledImageWithHoverPerBar) {
  json::object chart{{"type", "bar_chart"}, {"label", "Requests per day"}, {"unit", "requests"},
                     {"bars", json::array{json::object{{"label", "2026-11-25"}, {"value", 0}},
                                          json::object{{"label", "2026-11-26"}, {"value", 40}, {"tone", "warning"}},
                                          json::object{{"label", "2026-11-27"}, {"value", 10}}}}};
  auto html = render_ok(page(json::array{chart}));
  EXPECT_NE(html.find("role=\"img\" aria-label=\"Requests per day: 50 requests in total, peak 40 on 2026-11-26\""), std::string::npos);
  // Heights relative to the peak, in SVG attributes (no inline style: a strict CSP holds).
  EXPECT_NE(html.find("height=\"100.0\" class=\"tone-warning\"><title>2026-11-26: 40 requests</title>"), std::string::npos);
  EXPECT_NE(html.find("height=\"25.0\"><title>2026-11-27: 10 requests</title>"), std::string::npos);
  EXPECT_NE(html.find("class=\"zero\"><title>2026-11-25: 0 requests</title>"), std::string::npos);
  EXPECT_EQ(html.find("style="), std::string::npos);
  // The scale's maximum is written out, and every value is in a table for keyboard and screen readers.
  EXPECT_NE(html.find("<span>max 40 requests</span>"), std::string::npos);
  EXPECT_NE(html.find("<tr><th scope=\"row\">2026-11-26</th><td>40</td></tr>"), std::string::npos);
  EXPECT_NE(html.find("<tr><th scope=\"row\">2026-11-25</th><td>0</td></tr>"), std::string::npos);
}

TEST(Render, BarChartsShareAScaleWhenGivenOne) {
  json::object chart{{"type", "bar_chart"}, {"label", "Requests"}, {"unit", "requests"}, {"max", 200},
                     {"bars", json::array{json::object{{"label", "a"}, {"value", 50}}}}};
  auto html = render_ok(page(json::array{chart}));
  EXPECT_NE(html.find("<span>max 200 requests</span>"), std::string::npos);
  EXPECT_NE(html.find("height=\"25.0\"><title>a: 50 requests</title>"), std::string::npos);
  // A scale below the chart's own peak would cut bars off: the peak wins.
  chart["max"] = 10;
  html = render_ok(page(json::array{chart}));
  EXPECT_NE(html.find("<span>max 50 requests</span>"), std::string::npos);
  chart["max"] = "big";
  EXPECT_NE(validate_view_model(page(json::array{chart})), "");
}

TEST(Render, TimeShowsRelativeTextAndExactTimeOnHover) {
  json::object t{{"type", "time"}, {"datetime", "2026-11-24T08:15:00Z"}, {"text", "2 days ago"}};
  auto html = render_ok(page(json::array{t}));
  EXPECT_NE(html.find("<time datetime=\"2026-11-24T08:15:00Z\" title=\"2026-11-24 08:15:00 UTC\">2 days ago</time>"), std::string::npos);
}

TEST(Render, NavigationGroupsSectionsAndMarksTheCurrentPage) {
  auto html = render_ok(page(json::array{}));
  auto integ = html.find("<p class=\"nav-section\">Integrations</p>");
  ASSERT_NE(integ, std::string::npos);
  EXPECT_NE(html.find("<a href=\"/settings/integrations/api-keys\" aria-current=\"page\">API Keys</a>", integ), std::string::npos);
  EXPECT_NE(html.find("aria-haspopup=\"menu\" aria-expanded=\"false\" aria-controls=\"avatar-menu\""), std::string::npos);
  EXPECT_NE(html.find(">OH</span>"), std::string::npos);  // "Dr." is skipped in the initials
  EXPECT_NE(html.find("role=\"menuitem\" href=\"/settings\">Settings</a>"), std::string::npos);
}

TEST(Render, UnreadableViewModelsBecomeAnErrorNotice) {
  std::string why;
  EXPECT_TRUE(invalid(json::value("just a string")));
  EXPECT_TRUE(invalid(json::object{{"type", "page"}, {"title", "x"}, {"children", json::array{}}}, &why));
  EXPECT_NE(why.find("vm_version"), std::string::npos);
  json::object v3 = page(json::array{});
  v3["vm_version"] = 3;
  EXPECT_TRUE(invalid(v3, &why));
  EXPECT_NE(why.find("versions 1 and 2"), std::string::npos);
  // Parts new in version 2 are unknown to a version-1 document.
  json::object v1_with_tabs = page(json::array{json::object{
      {"type", "tabs"}, {"label", "Views"}, {"items", json::array{json::object{{"text", "A"}, {"query", json::object{}}}}}}});
  v1_with_tabs["vm_version"] = 1;
  EXPECT_TRUE(invalid(v1_with_tabs, &why));
  EXPECT_NE(why.find("needs vm_version 2"), std::string::npos);
  EXPECT_TRUE(invalid(page(json::array{json::object{{"type", "marquee"}, {"text", "x"}}}), &why));
  EXPECT_NE(why.find("children[0].type: unknown type \"marquee\""), std::string::npos);
  EXPECT_TRUE(invalid(page(json::array{json::object{{"type", "notice"}}}), &why));
  EXPECT_NE(why.find("children[0].text: required"), std::string::npos);
  EXPECT_TRUE(invalid(page(json::array{json::object{{"type", "notice"}, {"text", 5}}})));
  EXPECT_TRUE(invalid(page(json::array{json::object{{"type", "badge"}, {"text", "x"}, {"tone", "pink"}}})));
  EXPECT_TRUE(invalid(page(json::array{json::object{{"type", "bar_chart"}, {"label", "x"},
                                                    {"bars", json::array{json::object{{"label", "d"}, {"value", -1}}}}}})));
  // A modal a button opens must exist.
  EXPECT_TRUE(invalid(page(json::array{json::object{{"type", "button"}, {"label", "x"}, {"opens", "nope"}}}), &why));
  EXPECT_NE(why.find("no modal with id"), std::string::npos);
  // Not JSON at all.
  std::string err;
  auto html = render_settings_page(std::string_view("{\"vm_version\": 1,"), chrome(), &err);
  EXPECT_NE(err.find("not JSON"), std::string::npos);
  EXPECT_NE(html.find("This page could not be displayed"), std::string::npos);
}

TEST(Render, RoutesAndLinksCannotLeaveTheirPlace) {
  auto btn = [](const char* route) {
    return json::object{{"type", "button"}, {"label", "x"}, {"action", json::object{{"method", "POST"}, {"route", route}}}};
  };
  for (const char* bad : {"../admin", "keys/../../x", "/etc", "http://evil.test/", "keys//1", "a b", "keys/<x>", ""})
    EXPECT_TRUE(invalid(page(json::array{btn(bad)}))) << bad;
  EXPECT_FALSE(invalid(page(json::array{btn("keys/7/rotate")})));
  auto link = [](const char* href) { return json::object{{"type", "link"}, {"text", "x"}, {"href", href}}; };
  for (const char* bad : {"javascript:alert(1)", "//evil.test/x", "https://evil.test", "/\\evil", "billing"})
    EXPECT_TRUE(invalid(page(json::array{link(bad)}))) << bad;
  EXPECT_FALSE(invalid(page(json::array{link("/settings/billing")})));
  // GET is not an action: a button changes state.
  EXPECT_TRUE(invalid(page(json::array{json::object{{"type", "button"}, {"label", "x"},
                                                    {"action", json::object{{"method", "GET"}, {"route", "keys"}}}}})));
}

TEST(Render, ValidateViewModelAgreesWithRender) {
  EXPECT_EQ(validate_view_model(page(json::array{"plain text"})), "");
  EXPECT_NE(validate_view_model(json::object{}), "");
}

TEST(Render, BillingFeaturesCardShowsCheckOrLockAndAddonButtons) {
  auto c = chrome();
  c.action_base = "/";
  c.title = "Billing & Subscription";
  c.current_path = "/settings/billing";
  std::vector<BillingFeature> tier{{"api_access", "API access", true, "tier", "api_access", ""}};
  std::vector<BillingFeature> addon{{"api_access", "API access", true, "addon", "api_access", ""}};
  std::vector<BillingFeature> none{{"api_access", "API access", false, "", "api_access", "$49 per month"}};

  std::string err;
  auto html = render_settings_page(billing_view_model("Bright Smiles Dental", "enterprise", tier, true), c, &err);
  ASSERT_EQ(err, "");
  EXPECT_NE(html.find("id=\"row-feature-api_access\""), std::string::npos);
  EXPECT_NE(html.find("badge tone-success"), std::string::npos);
  EXPECT_NE(html.find("Included in your Enterprise plan"), std::string::npos);
  EXPECT_EQ(html.find("data-url=\"/billing/addons/api_access\""), std::string::npos);

  html = render_settings_page(billing_view_model("Lakeside", "professional", addon, true), c, &err);
  ASSERT_EQ(err, "");
  EXPECT_NE(html.find("data-method=\"DELETE\" data-url=\"/billing/addons/api_access\""), std::string::npos);

  html = render_settings_page(billing_view_model("Downtown", "professional", none, true), c, &err);
  ASSERT_EQ(err, "");
  EXPECT_NE(html.find(">Locked</span>"), std::string::npos);
  EXPECT_NE(html.find("<rect"), std::string::npos);  // the lock icon
  EXPECT_NE(html.find("data-method=\"POST\" data-url=\"/billing/addons/api_access\""), std::string::npos);
  // A purchase names its price, on the button and in the question asked before buying.
  EXPECT_NE(html.find(">Buy API access addon ($49 per month)</button>"), std::string::npos);
  EXPECT_NE(html.find("data-confirm=\"Buy the API access addon for $49 per month, billed with your plan from today?"),
            std::string::npos);

  html = render_settings_page(billing_view_model("Downtown", "professional", none, false), c, &err);
  ASSERT_EQ(err, "");
  EXPECT_EQ(html.find("data-url=\"/billing/addons/api_access\""), std::string::npos);
  EXPECT_NE(html.find("Only a clinic admin can buy or cancel addons."), std::string::npos);
}

TEST(Render, LoginPageOnlyRedirectsWithinTheHost) {
  EXPECT_NE(render_login_page("/settings/integrations/api-keys").find("data-next=\"/settings/integrations/api-keys\""), std::string::npos);
  EXPECT_NE(render_login_page("//evil.test").find("data-next=\"/settings\""), std::string::npos);
  EXPECT_NE(render_login_page("https://evil.test").find("data-next=\"/settings\""), std::string::npos);
  auto html = render_login_page();
  EXPECT_NE(html.find("autocomplete=\"current-password\""), std::string::npos);
}

TEST(Render, SettingsIndexAndMessagePages) {
  auto html = render_settings_index(chrome());
  EXPECT_NE(html.find("<h2 id=\"index-2\">Integrations</h2>"), std::string::npos);
  html = render_message_page(chrome(), "You don't have permission to open this page", kHostile);
  EXPECT_NE(html.find("You don&#39;t have permission"), std::string::npos);
  EXPECT_EQ(html.find("<script>alert"), std::string::npos);
}

// A strict Content-Security-Policy (script-src 'self'; style-src 'self') must hold: pages load
// the stylesheet and the script from /assets/ by a versioned URL and carry no inline code.
TEST(Render, PagesCarryNoInlineScriptOrStyle) {
  std::vector<std::string> pages{render_settings_index(chrome()), render_login_page(),
                                 render_message_page(chrome(), "Forbidden", "No.")};
  for (const auto& html : pages) {
    EXPECT_EQ(html.find("<style"), std::string::npos);
    EXPECT_EQ(html.find("style="), std::string::npos);
    EXPECT_EQ(html.find(" onclick"), std::string::npos);
    EXPECT_EQ(html.find("<script>"), std::string::npos);
    EXPECT_NE(html.find("<link rel=\"stylesheet\" href=\"/assets/app.css?v="), std::string::npos);
  }
  EXPECT_NE(pages[0].find("<script src=\"/assets/app.js?v="), std::string::npos);
  EXPECT_NE(pages[1].find("<script src=\"/assets/login.js?v="), std::string::npos);
  const Asset* css = find_asset("app.css");
  ASSERT_NE(css, nullptr);
  EXPECT_EQ(css->version.size(), 16u);
  EXPECT_NE(css->body.find("prefers-color-scheme: dark"), std::string::npos);
  EXPECT_EQ(asset_url("app.css"), "/assets/app.css?v=" + std::string(css->version));
  EXPECT_EQ(find_asset("../app.css"), nullptr);
  EXPECT_EQ(find_asset("missing.js"), nullptr);
}
