#include "pages/api_keys_page.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <exception>
#include <set>

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

#include "api_access_plugin.hpp"
#include "keys/key_store.hpp"
#include "plugin_context.hpp"

namespace mdp::api_access {

namespace json = boost::json;

namespace {

constexpr const char* kReadScope = "read";
constexpr const char* kBillingPath = "/settings/billing";

std::string plural(std::int64_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

std::int64_t whole_days(Micros from, Micros to) { return (to - from) / kMicrosPerDay; }

json::object text(std::string t, const char* tone = nullptr, std::string title = {}) {
  json::object o{{"type", "text"}, {"text", std::move(t)}};
  if (tone) o["tone"] = tone;
  if (!title.empty()) o["title"] = std::move(title);
  return o;
}

json::object badge(std::string t, const char* tone, const char* icon = nullptr, std::string title = {}) {
  json::object o{{"type", "badge"}, {"text", std::move(t)}, {"tone", tone}};
  if (icon) o["icon"] = icon;
  if (!title.empty()) o["title"] = std::move(title);
  return o;
}

// A time as the clinic reads it: relative text, and on hover the exact local time with its zone.
json::object time_part(Micros t, const ApiKeysPageInput& in) {
  return {{"type", "time"}, {"datetime", in.zone.format_rfc3339(t)}, {"text", relative_time(t, in.now)},
          {"title", in.zone.format_seconds(t)}};
}

const char* const kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

// "26 Dec 2026".
std::string long_date(DayNumber d) {
  const std::string iso = format_date(d);
  const int month = std::stoi(iso.substr(5, 2));
  std::string day = iso.substr(8, 2);
  if (day[0] == '0') day.erase(0, 1);
  return day + " " + kMonths[month - 1] + " " + iso.substr(0, 4);
}

std::string quoted(const std::string& label) { return "\u201C" + label + "\u201D"; }

// A scope in words: "read" is "Read-only", "appointments:write" is "Write appointments",
// "billing_records:read" is "Read billing records"; other names are shown as they are.
std::string scope_words(const std::string& id) {
  if (id == kReadScope) return "Read-only";
  const auto colon = id.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == id.size()) return id;
  std::string what = id.substr(0, colon), verb = id.substr(colon + 1);
  std::replace(what.begin(), what.end(), '_', ' ');
  if (verb == "write") return "Write " + what;
  if (verb == "read") return "Read " + what;
  return id;
}

// Words with the raw name beside: "Write appointments (appointments:write)".
std::string scope_label(const std::string& id) {
  const std::string words = scope_words(id);
  return words == id ? id : words + " (" + id + ")";
}

std::string percent(double fraction) {
  char buf[32];
  double p = fraction * 100.0;
  if (p == 0) return "0%";
  if (p < 0.1) return "<0.1%";
  std::snprintf(buf, sizeof buf, p < 10 ? "%.1f%%" : "%.0f%%", p);
  return buf;
}

// The last kUsageDays days ending today, oldest first, whatever shape the stored vector has.
std::vector<DayUsage> window(const std::vector<DayUsage>* stored, DayNumber today) {
  std::vector<DayUsage> days(kUsageDays);
  for (int i = 0; i < kUsageDays; ++i) days[i].day = today - (kUsageDays - 1) + i;
  if (stored)
    for (const auto& d : *stored) {
      auto idx = d.day - days.front().day;
      if (idx >= 0 && idx < kUsageDays) days[idx] = d;
    }
  return days;
}

// When the key stops working: never, after 30, 90 or 180 days, or on a date the admin picks.
// Values are calendar dates in the clinic's time zone; the API reads "YYYY-MM-DD" as "works
// through that day" (routes/admin_routes.cpp).
json::object expiry_field(const ApiKeysPageInput& in) {
  const DayNumber today = in.zone.day_of(in.now);
  json::array options{json::object{{"value", nullptr}, {"label", "Never"}, {"checked", true},
                                   {"description", "It works until you revoke it. Rotate it every 90 days all the same."}}};
  for (int days : {30, 90, 180})
    options.push_back(json::object{{"value", format_date(today + days)},
                                   {"label", "In " + std::to_string(days) + " days"},
                                   {"description", "It works through " + long_date(today + days) + "."}});
  options.push_back(json::object{
      {"value", nullptr}, {"label", "On a date"},
      {"input", json::object{{"type", "date"}, {"label", "Last day the key works"},
                             {"min", format_date(today)}, {"max", "9999-12-30"}}}});
  return {{"type", "choice"}, {"name", "expires_at"}, {"label", "Expires"}, {"multiple", false},
          {"hint", "Dates are in the clinic's time zone (" + in.zone.name() + "). The key stops working when that day ends."},
          {"options", std::move(options)}};
}

// Which patients the key's requests read or changed in the last 30 days, as a CSV download
// (routes/disclosure_routes.hpp; other ranges through its from/to parameters).
json::object disclosure_link(KeyId id) {
  return {{"type", "link"},
          {"text", "Patients accessed (CSV)"},
          {"href", "/plugins/api-access/keys/" + std::to_string(id) + "/disclosures?format=csv"}};
}

json::object generate_modal(const std::vector<host::ApiScope>& scopes, const ApiKeysPageInput& in) {
  json::array options;
  bool has_read = false;
  for (const auto& s : scopes) {
    json::object o{{"value", s.id}, {"label", scope_label(s.id)}};
    if (!s.description.empty()) o["description"] = s.description;
    if (s.id == kReadScope) {
      o["checked"] = true;  // the safe default the guide recommends
      has_read = true;
    }
    if (s.write)
      o["warning"] = "Write access: the integration can change your clinic's data. Pick it only if it must.";
    options.push_back(std::move(o));
  }
  if (!has_read)  // a host that forgot to declare it still gets the read-only default
    options.insert(options.begin(), json::object{{"value", kReadScope}, {"label", scope_label(kReadScope)}, {"checked", true}});
  json::object form{
      {"type", "form"},
      {"id", "generate-key-form"},
      {"submit_label", "Generate key"},
      {"action", json::object{{"method", "POST"}, {"route", "keys"},
                              {"secret", json::object{{"field", "secret"}, {"title", "Your new API key"},
                                                      {"warning", "Copy it now: it cannot be shown again. Share it with your developer "
                                                                  "through a password manager or an encrypted note, not email or chat."}}}}},
      {"fields", json::array{
                     json::object{{"type", "text"}, {"name", "label"}, {"label", "Label"}, {"required", true},
                                  {"max_length", 100}, {"placeholder", "e.g. Power BI sync"},
                                  {"hint", "Name what the key is for, like \u201CPower BI sync\u201D or \u201CWebsite booking widget\u201D."}},
                     json::object{{"type", "choice"}, {"name", "scopes"}, {"label", "Scopes"}, {"multiple", true},
                                  {"min_selected", 1},
                                  {"hint", "Read-only is the safe default. Add a write scope only if the integration needs it. "
                                           "A write scope does not include read: tick Read-only too if the integration also reads."},
                                  {"options", std::move(options)}},
                     expiry_field(in)}}};
  return {{"type", "modal"},
          {"id", "generate-key"},
          {"title", "Generate new key"},
          {"description", "The key is shown once. Afterwards only a masked preview is visible."},
          {"children", json::array{std::move(form)}}};
}

// "600 requests per minute", "10 requests per second", "5 requests per 90 seconds".
std::string rate_limit_text(const RateLimit& r) {
  const std::string n = plural(r.requests, "request", "requests");
  if (r.per_seconds == 1) return n + " per second";
  if (r.per_seconds == 60) return n + " per minute";
  if (r.per_seconds == 3600) return n + " per hour";
  if (r.per_seconds == 86'400) return n + " per day";
  return n + " per " + std::to_string(r.per_seconds) + " seconds";
}

// Edit: label, description, fewer scopes (never more: a wider key is a new key), the rate limit
// and the addresses the key may be used from, all through PATCH keys/{id}.
json::object edit_modal(const KeyRecord& k) {
  const std::string id = std::to_string(k.id);
  json::array scope_options;
  for (const auto& sc : k.scopes)
    scope_options.push_back(json::object{{"value", sc}, {"label", scope_label(sc)}, {"checked", true}});
  static const RateLimit kPresets[] = {{60, 60}, {600, 60}, {10'000, 3600}};
  json::array limits{json::object{{"value", nullptr}, {"label", "Your plan's default"}}};
  bool known = !k.rate_limit;
  for (const auto& r : kPresets) {
    json::object o{{"value", json::object{{"requests", r.requests}, {"per_seconds", r.per_seconds}}},
                   {"label", rate_limit_text(r)}};
    if (k.rate_limit && *k.rate_limit == r) {
      o["checked"] = true;
      known = true;
    }
    limits.push_back(std::move(o));
  }
  if (!known)  // a limit set through the API keeps its own choice
    limits.push_back(json::object{{"value", json::object{{"requests", k.rate_limit->requests}, {"per_seconds", k.rate_limit->per_seconds}}},
                                  {"label", rate_limit_text(*k.rate_limit) + " (current)"}, {"checked", true}});
  if (!k.rate_limit) limits[0].as_object()["checked"] = true;
  std::string ips;
  for (const auto& a : k.allowed_ips) ips += (ips.empty() ? "" : "\n") + a;
  json::object form{
      {"type", "form"},
      {"id", "edit-form-" + id},
      {"submit_label", "Save changes"},
      {"action", json::object{{"method", "PATCH"}, {"route", "keys/" + id}}},
      {"fields", json::array{
           json::object{{"type", "text"}, {"name", "label"}, {"label", "Label"}, {"required", true},
                        {"max_length", 100}, {"value", k.label}},
           json::object{{"type", "textarea"}, {"name", "description"}, {"label", "Description"},
                        {"max_length", 1000}, {"value", k.description},
                        {"hint", "Optional: what uses the key and whom to ask about it."}},
           json::object{{"type", "choice"}, {"name", "scopes"}, {"label", "Scopes"}, {"multiple", true},
                        {"min_selected", 1},
                        {"hint", "You can only remove scopes here: a key never gains access. For more access, generate a new key."},
                        {"options", std::move(scope_options)}},
           json::object{{"type", "choice"}, {"name", "rate_limit"}, {"label", "Rate limit"}, {"multiple", false},
                        {"send_null", true}, {"options", std::move(limits)}},
           json::object{{"type", "textarea"}, {"name", "allowed_ips"}, {"label", "Allowed addresses"}, {"list", true},
                        {"value", ips}, {"placeholder", "e.g. 203.0.113.0/24"},
                        {"hint", "IPv4 or IPv6 addresses or networks (CIDR), one per line, at most 32. "
                                 "Leave empty to allow any address."}}}}};
  return {{"type", "modal"},
          {"id", "edit-" + id},
          {"title", "Edit " + quoted(k.label)},
          {"description", "Changes apply at once. The key itself stays the same."},
          {"children", json::array{std::move(form)}}};
}

// The state of a rotation that finishes itself, on the old key's row: what it waits for, and
// when the old key goes if nothing changes.
json::array auto_rotation_parts(const WaitingRotation& w, const ApiKeysPageInput& in) {
  const AutoRotationJudgement j = judge(w, in.now);
  using V = AutoRotationJudgement::Verdict;
  std::string used = w.old_last_used_at ? "old key last used " + relative_time(*w.old_last_used_at, in.now)
                                        : std::string("old key never used");
  if (w.old_last_used_at && !w.old_last_used_address.empty()) used += " from " + w.old_last_used_address;
  json::array out{badge("Finishing rotation", "info", "clock",
                        "Revoked automatically once unused for " + duration_words(w.quiet_seconds) +
                            " after the new key " + w.new_preview + " works.")};
  switch (j.verdict) {
    case V::wait_for_new_key:
      // The new key's preview only on hover: a row names one key in its text.
      out.push_back(text("Waiting for the new key's first successful request; " + used, "muted",
                         "The new key is " + w.new_preview + "."));
      break;
    case V::wait_for_quiet:
      out.push_back(text("Waiting: " + used, "muted"));
      out.push_back(text("Revoked automatically " + relative_time(j.revoke_at, in.now) + " if it stays unused",
                         "muted", "At " + in.zone.format_minutes(j.revoke_at)));
      break;
    default:
      out.push_back(text("Unused for " + duration_words(w.quiet_seconds) + ": being revoked", "muted"));
      break;
  }
  return out;
}

// "Read-only and Write appointments".
std::string scopes_in_words(const std::vector<std::string>& scopes) {
  std::string out;
  for (std::size_t i = 0; i < scopes.size(); ++i)
    out += (i == 0 ? "" : i + 1 == scopes.size() ? " and " : ", ") + scope_words(scopes[i]);
  return out;
}

// "Write access unused": which write scopes went unused, and the one-click reduction to the
// scopes the key did use (PATCH keys/{id}, which only ever narrows).
json::array least_privilege_parts(const KeyRecord& k, const LeastPrivilege& lp, bool enabled) {
  const std::string unused = scopes_in_words(lp.unused_write);
  json::array out{badge("Write access unused", "warning", "warning",
                        "No request used " + unused + " in " + std::to_string(kLeastPrivilegeDays) +
                            " days. A key that holds less can do less harm if it leaks.")};
  out.push_back(text("No request used " + unused + " in " + std::to_string(kLeastPrivilegeDays) + " days", "warning"));
  if (enabled && !lp.used.empty()) {
    json::array keep;
    for (const auto& s : lp.used) keep.emplace_back(s);
    const std::string used = scopes_in_words(lp.used);
    out.push_back(json::object{
        {"type", "button"}, {"label", "Reduce to " + used},
        {"action", json::object{{"method", "PATCH"}, {"route", "keys/" + std::to_string(k.id)},
                                {"body", json::object{{"scopes", std::move(keep)}}},
                                {"confirm", "Reduce " + quoted(k.label) + " (" + k.preview + ") to " + used +
                                                "? It loses " + unused + " at once. A key never gains a scope back: "
                                                "if the integration needs it after all, generate a new key."}}}});
  }
  return out;
}

json::object rotate_modal(const KeyRecord& k) {
  const std::string id = std::to_string(k.id);
  json::array options{
      json::object{{"value", kDefaultRotateGraceSeconds}, {"label", "Keep the old key working for 7 days"},
                   {"description", "Recommended: time for your developer to switch the integration."}, {"checked", true}},
      json::object{{"value", 86'400}, {"label", "Keep the old key working for 24 hours"}},
      json::object{{"value", nullptr}, {"label", "Keep the old key working until I revoke it"},
                   {"description", "Revoke it yourself once the integration uses the new key."}}};
  json::array finish{
      json::object{{"value", json::object{{"quiet_seconds", kDefaultQuietSeconds}}},
                   {"label", "Revoke the old key automatically once the integration has switched"},
                   {"description", "After the new key's first successful request, the old key is revoked once it has "
                                   "had no request for 24 hours. You can finish or cancel it here meanwhile."},
                   {"checked", true}},
      json::object{{"value", json::object{{"quiet_seconds", 3600}}},
                   {"label", "The same, after 1 hour without requests"}},
      json::object{{"value", nullptr}, {"label", "No, I revoke it myself"}}};
  json::object form{
      {"type", "form"},
      {"id", "rotate-form-" + id},
      {"submit_label", "Rotate key"},
      {"action", json::object{{"method", "POST"}, {"route", "keys/" + id + "/rotate"},
                              {"secret", json::object{{"field", "secret"}, {"title", "New key for " + quoted(k.label)},
                                                      {"warning", "Copy it now: it cannot be shown again. Share it through a "
                                                                  "password manager or an encrypted note, not email or chat."}}}}},
      {"fields", json::array{json::object{{"type", "choice"}, {"name", "grace_seconds"},
                                          {"label", "The old key " + k.preview}, {"multiple", false},
                                          {"options", std::move(options)}},
                             json::object{{"type", "choice"}, {"name", "finish_automatically"},
                                          {"label", "Finish the rotation"}, {"multiple", false},
                                          {"options", std::move(finish)}}}}};
  return {{"type", "modal"},
          {"id", "rotate-" + id},
          {"title", "Rotate " + quoted(k.label)},
          {"description", "A new key with the same label and scopes replaces this one and is shown once."},
          {"children", json::array{std::move(form)}}};
}

// The query of a link to this page: `in`'s search, filter and sort, with `page`; parameters at
// their default are left out, so the plain page URL is the default view.
json::object keys_query(const ApiKeysPageInput& in, std::size_t page, std::optional<KeyFilter> filter = std::nullopt) {
  const KeyQuery d = ApiKeysPageInput::default_page_query();
  json::object q;
  if (!in.query.search.empty()) q["q"] = in.query.search;
  const KeyFilter f = filter.value_or(in.query.filter);
  if (f != d.filter) q["status"] = to_string(f);
  if (in.query.sort != d.sort) q["sort"] = to_string(in.query.sort);
  if (page > 1) q["page"] = std::to_string(page);
  return q;
}

json::object activity_query(const ApiKeysPageInput& in, std::size_t page) {
  json::object q{{"view", "activity"}};
  if (in.activity_key) q["key"] = std::to_string(*in.activity_key);
  if (page > 1) q["page"] = std::to_string(page);
  return q;
}

// Previous / numbered / next links around `page` of `pages`.
json::object pagination(std::string label, std::string summary, std::size_t page, std::size_t pages,
                        const std::function<json::object(std::size_t)>& query_of) {
  json::object p{{"type", "pagination"}, {"label", std::move(label)}, {"summary", std::move(summary)}};
  if (page > 1) p["previous"] = query_of(page - 1);
  if (page < pages) p["next"] = query_of(page + 1);
  json::array numbers;
  // The first, the last, and two either side of the current page; gaps are shown by the host.
  for (std::size_t n = 1; n <= pages; ++n) {
    if (n != 1 && n != pages && (n + 2 < page || n > page + 2)) continue;
    json::object item{{"number", n}, {"query", query_of(n)}};
    if (n == page) item["current"] = true;
    numbers.push_back(std::move(item));
  }
  p["pages"] = std::move(numbers);
  return p;
}

std::string range_text(std::size_t first, std::size_t last, std::size_t total, const char* one, const char* many) {
  if (total == 0) return std::string("No ") + many;
  if (first == last) return std::string(one) + " " + std::to_string(first) + " of " + std::to_string(total);
  return std::string(many) + " " + std::to_string(first) + "\u2013" + std::to_string(last) + " of " + std::to_string(total);
}

json::object tabs(const ApiKeysPageInput& in) {
  json::object keys_tab{{"text", "Keys"}, {"query", json::object{}}};
  json::object activity_tab{{"text", "Activity"}, {"query", json::object{{"view", "activity"}}}};
  (in.view == PageView::keys ? keys_tab : activity_tab)["current"] = true;
  return {{"type", "tabs"}, {"label", "API key views"}, {"items", json::array{std::move(keys_tab), std::move(activity_tab)}}};
}

json::array filter_options(KeyFilter current) {
  static constexpr std::pair<KeyFilter, const char*> kLabels[] = {
      {KeyFilter::current, "All but revoked"}, {KeyFilter::active, "Active"},
      {KeyFilter::expiring_soon, "Expiring within 14 days"}, {KeyFilter::rotation_due, "Rotation due (90 days or older)"},
      {KeyFilter::unused, "Unused for 30 days"}, {KeyFilter::expired, "Expired"},
      {KeyFilter::revoked, "Revoked"}, {KeyFilter::all, "All keys"}};
  json::array out;
  for (const auto& [f, label] : kLabels) {
    json::object o{{"value", to_string(f)}, {"label", label}};
    if (f == current) o["selected"] = true;
    out.push_back(std::move(o));
  }
  return out;
}

json::array sort_options(KeySort current) {
  static constexpr std::pair<KeySort, const char*> kLabels[] = {
      {KeySort::newest, "Newest first"}, {KeySort::oldest, "Oldest first"}, {KeySort::label, "Label, A to Z"},
      {KeySort::last_used, "Recently used first"}, {KeySort::expires, "Expiring first"}};
  json::array out;
  for (const auto& [v, label] : kLabels) {
    json::object o{{"value", to_string(v)}, {"label", label}};
    if (v == current) o["selected"] = true;
    out.push_back(std::move(o));
  }
  return out;
}

json::object keys_search_form(const ApiKeysPageInput& in) {
  return {{"type", "query_form"},
          {"label", "Find keys"},
          {"submit_label", "Apply"},
          {"fields", json::array{
                         json::object{{"type", "search"}, {"name", "q"}, {"label", "Search"},
                                      {"value", in.query.search}, {"max_length", kMaxSearch},
                                      {"placeholder", "Label or last 4 characters"}},
                         json::object{{"type", "select"}, {"name", "status"}, {"label", "Status"},
                                      {"options", filter_options(in.query.filter)}},
                         json::object{{"type", "select"}, {"name", "sort"}, {"label", "Sort"},
                                      {"options", sort_options(in.query.sort)}}}},
          {"reset", json::object{{"text", "Show the default view"}, {"query", json::object{}}}}};
}

const char* event_title(const std::string& type) {
  if (type == "created") return "Generated";
  if (type == "rotated") return "Rotated";
  if (type == "revoked") return "Revoked";
  if (type == "expired") return "Expired";
  if (type == "updated") return "Edited";
  return "Changed";
}

const char* event_tone(const std::string& type) {
  if (type == "revoked") return "danger";
  if (type == "expired") return "neutral";
  if (type == "created") return "success";
  return "info";
}

json::array activity_children(const ApiKeysPageInput& in) {
  json::array key_options{json::object{{"value", ""}, {"label", "All keys"}}};
  std::map<KeyId, const KeyRecord*> by_id;
  for (const auto& k : in.key_choices) {
    by_id[k.id] = &k;
    json::object o{{"value", std::to_string(k.id)}, {"label", k.label + " (" + k.preview + ")"}};
    if (in.activity_key && *in.activity_key == k.id) o["selected"] = true;
    key_options.push_back(std::move(o));
  }
  json::array children;
  children.push_back(json::object{
      {"type", "query_form"}, {"label", "Filter the activity"}, {"submit_label", "Show"},
      {"fields", json::array{json::object{{"type", "hidden"}, {"name", "view"}, {"value", "activity"}},
                             json::object{{"type", "select"}, {"name", "key"}, {"label", "Key"},
                                          {"options", std::move(key_options)}}}}});
  const std::size_t pages = std::max<std::size_t>(1, (in.events_total + kEventsPageSize - 1) / kEventsPageSize);
  const std::size_t first = (in.events_page - 1) * kEventsPageSize + 1;
  std::string subject = "who did what to which key, and when; newest first.";
  if (in.activity_key) {
    auto it = by_id.find(*in.activity_key);
    subject = "of " + (it != by_id.end() ? quoted(it->second->label) + " (" + it->second->preview + ")" : std::string("one key")) +
              ", its rotation into a new key included; newest first.";
  }
  if (in.events.empty()) {
    children.push_back(json::object{{"type", "empty_state"}, {"title", "No activity"},
                                    {"text", in.activity_key ? "Nothing has happened to this key yet."
                                                             : "Generating, rotating, editing and revoking keys is recorded here."}});
    return children;
  }
  json::array rows;
  for (const auto& e : in.events) {
    json::array what{badge(event_title(e.type), event_tone(e.type))};
    if (e.type == "rotated" && e.related_key_id) {
      auto old = by_id.find(*e.related_key_id);
      what.push_back(text("replaced " + (old != by_id.end() ? old->second->preview : "key #" + std::to_string(*e.related_key_id)), "muted"));
    }
    if (!e.detail.empty()) what.push_back(text(e.detail, "muted"));
    json::array key_cell{text(e.label), text(e.preview, "muted")};
    json::value who = e.actor ? json::value(e.actor->name) : json::value(text("System (expiry)", "muted"));
    rows.push_back(json::object{{"id", "event-" + std::to_string(e.id)},
                                {"cells", json::object{{"when", time_part(e.at, in)},
                                                       {"what", std::move(what)},
                                                       {"key", std::move(key_cell)},
                                                       {"who", std::move(who)}}}});
  }
  json::object section{
      {"type", "section"}, {"title", "Activity"},
      {"description", "Everything done to your keys, " + subject},
      {"children", json::array{json::object{
                       {"type", "table"}, {"caption", "API key activity"},
                       {"columns", json::array{json::object{{"key", "when"}, {"label", "When"}},
                                               json::object{{"key", "what"}, {"label", "What happened"}},
                                               json::object{{"key", "key"}, {"label", "Key"}},
                                               json::object{{"key", "who"}, {"label", "By"}}}},
                       {"rows", std::move(rows)}}}}};
  if (in.events_total > in.events.size())
    section["children"].as_array().push_back(pagination(
        "Pages of activity", range_text(first, first + in.events.size() - 1, in.events_total, "Event", "Events"),
        in.events_page, pages, [&](std::size_t n) { return activity_query(in, n); }));
  children.push_back(std::move(section));
  return children;
}

}  // namespace

std::string relative_time(Micros t, Micros now) {
  const Micros d = now - t;
  const bool future = d < 0;
  constexpr Micros kMinute = 60 * kMicrosPerSecond;
  // The past rounds down ("3 days ago" until the fourth day is full); the future rounds up to a
  // whole minute, so a grace of exactly 7 days reads "in 7 days" and not "in 6 days" a moment
  // after it was set.
  const Micros a = !future ? d : -d < kMinute ? -d : (-d + kMinute - 1) / kMinute * kMinute;
  const std::int64_t minutes = a / (60 * kMicrosPerSecond), hours = minutes / 60, days = hours / 24;
  std::string span;
  if (minutes < 1) return future ? "in less than a minute" : "just now";
  if (hours < 1) span = plural(minutes, "minute", "minutes");
  else if (days < 1) span = plural(hours, "hour", "hours");
  else if (days < 60) span = plural(days, "day", "days");
  else if (days < 730) span = plural(days / 30, "month", "months");
  else span = plural(days / 365, "year", "years");
  return future ? "in " + span : span + " ago";
}

json::object build_api_keys_view_model(const ApiKeysPageInput& in) {
  const Micros now = in.now;
  const DayNumber today = in.zone.day_of(now);
  const bool enabled = in.api_access_enabled;

  // Which keys were replaced, and by which key's preview (the store's answer, or this page's keys).
  std::map<KeyId, std::string> replaced_by = in.replaced_by;
  for (const auto& k : in.keys)
    if (k.rotated_from) replaced_by.try_emplace(*k.rotated_from, k.preview);

  // One scale for every chart on the page, so rows compare at a glance.
  std::uint64_t chart_max = 0;
  for (const auto& k : in.keys)
    if (auto it = in.usage.find(k.id); it != in.usage.end())
      for (const auto& d : window(&it->second, today)) chart_max = std::max(chart_max, d.requests);

  json::array rows;
  json::array modals;
  if (enabled) modals.push_back(generate_modal(in.scopes, in));

  for (const auto& k : in.keys) {
    const KeyStatus status = k.status_at(now);
    const bool active = status == KeyStatus::active;
    auto it = in.usage.find(k.id);
    const auto days = window(it == in.usage.end() ? nullptr : &it->second, today);
    const UsageTotals total = totals(days);
    const Spike spike = detect_spike(days, in.zone.day_of(k.created_at));

    // Key: label and masked preview.
    json::array key_cell{text(k.label), text(k.preview, "muted", "Masked preview: the full key was shown once, when it was generated.")};
    if (!k.description.empty()) key_cell.push_back(text(k.description, "muted"));
    key_cell.push_back(
                         json::object{{"type", "link"}, {"text", "Activity"},
                                      {"query", json::object{{"view", "activity"}, {"key", std::to_string(k.id)}}}});
    key_cell.push_back(disclosure_link(k.id));

    json::array scopes_cell;
    for (const auto& s : k.scopes) {
      std::string words = scope_words(s);
      scopes_cell.push_back(badge(words, s == kReadScope ? "info" : "warning"));
      if (words != s) scopes_cell.push_back(text(s, "muted"));  // the raw name, as the API and docs spell it
    }
    scopes_cell.push_back(text("Rate limit: " + (k.rate_limit ? rate_limit_text(*k.rate_limit) : std::string("plan default"))));
    if (k.allowed_ips.empty()) {
      scopes_cell.push_back(text("From any address", "muted"));
    } else {
      std::string all;
      for (const auto& a : k.allowed_ips) all += (all.empty() ? "" : ", ") + a;
      std::string shown = "From " + k.allowed_ips[0];
      if (k.allowed_ips.size() > 1) shown += " and " + plural(static_cast<std::int64_t>(k.allowed_ips.size() - 1), "more", "more");
      scopes_cell.push_back(text(shown, "muted", "Allowed addresses: " + all));
    }

    json::array created_cell{text("by " + k.created_by.name), time_part(k.created_at, in)};

    json::value last_used;
    if (k.last_used_at) {
      json::array lu{time_part(*k.last_used_at, in)};
      if (k.last_used_address && !k.last_used_address->empty()) lu.push_back(text("from " + *k.last_used_address));
      if (k.last_used_agent && !k.last_used_agent->empty()) {
        std::string agent = *k.last_used_agent;
        if (agent.size() > 60) agent = agent.substr(0, 57) + "...";
        lu.push_back(text(agent, "muted", "User agent: " + *k.last_used_agent));
      }
      last_used = std::move(lu);
    } else {
      last_used = text("never", "muted");
    }

    // Status and the marks the guide asks an admin to act on.
    json::array status_cell;
    switch (status) {
      case KeyStatus::active: status_cell.push_back(badge("Active", "success", "check")); break;
      case KeyStatus::expired: status_cell.push_back(badge("Expired", "neutral", nullptr, "Expired " + relative_time(*k.expires_at, now) + ".")); break;
      case KeyStatus::revoked: {
        // Revoked by an admin, or on a leak report (then where the key was found).
        const bool leaked = k.revoked_reason && *k.revoked_reason == "leak_report";
        std::string why = "Revoked " + relative_time(*k.revoked_at, now);
        if (leaked) why += " because it was reported leaked";
        else if (k.revoked_by && !k.revoked_by->name.empty()) why += " by " + k.revoked_by->name;
        status_cell.push_back(badge("Revoked", "danger", nullptr, why + "."));
        status_cell.push_back(text(why, "muted"));
        if (leaked) {
          std::string where = k.leak_url.empty() ? std::string("Reported leaked") : "Found at " + k.leak_url;
          if (!k.leak_source.empty()) where += " (reported by " + k.leak_source + ")";
          status_cell.push_back(badge("Leaked", "danger", "warning", where + "."));
          status_cell.push_back(text(where, "danger"));
        }
        break;
      }
    }
    if (active && !enabled)
      status_cell.push_back(badge("Paused", "neutral", "lock",
                                  "Your plan does not include API access. The key works again when it does, unless revoked or expired."));
    if (auto r = replaced_by.find(k.id); r != replaced_by.end()) {
      status_cell.push_back(badge("Rotated", "info", nullptr, "Replaced by the key " + r->second + "."));
      if (active && k.expires_at)
        status_cell.push_back(text("Still works until " + in.zone.format_minutes(*k.expires_at) +
                                       " (" + relative_time(*k.expires_at, now) + ")",
                                   "warning"));
      else if (active)
        status_cell.push_back(text("Still works until you revoke it", "warning"));
    } else if (active && k.expires_at) {
      status_cell.push_back(text("Expires " + relative_time(*k.expires_at, now), "muted", "Expires " + in.zone.format_minutes(*k.expires_at)));
    }
    const auto rotating = in.auto_rotations.find(k.id);
    if (active && rotating != in.auto_rotations.end())
      for (auto& part : auto_rotation_parts(rotating->second, in)) status_cell.push_back(std::move(part));
    const auto age_days = whole_days(k.created_at, now);
    if (active && age_days >= kRotationDueDays)
      status_cell.push_back(badge("Rotation due", "warning", "clock",
                                  "Created " + plural(age_days, "day", "days") +
                                      " ago. Rotate keys every 90 days: rotate, have your developer switch the integration, then revoke the old key."));
    const Micros quiet_since = k.last_used_at.value_or(k.created_at);
    const auto quiet_days = whole_days(quiet_since, now);
    if (active && quiet_days >= kUnusedHintDays)
      status_cell.push_back(text((k.last_used_at ? "Unused for " + plural(quiet_days, "day", "days")
                                                 : "Never used in " + plural(quiet_days, "day", "days")) +
                                     ": if nothing uses it any more, revoke it.",
                                 "warning"));
    if (active) {
      static const std::vector<ScopeUse> kNone;
      const auto uses = in.scope_uses.find(k.id);
      if (auto lp = least_privilege(k, uses == in.scope_uses.end() ? kNone : uses->second, in.scope_counting_since,
                                    in.scopes, now))
        for (auto& part : least_privilege_parts(k, *lp, enabled)) status_cell.push_back(std::move(part));
    }
    if (spike.spike && active) {  // a key that no longer works is not an alarm
      char mean[32];
      std::snprintf(mean, sizeof mean, "%.0f", spike.baseline);
      status_cell.push_back(badge("Spike today", "danger", "warning",
                                  "Today: " + plural(static_cast<std::int64_t>(days.back().requests), "request", "requests") +
                                      ", against about " + mean + " a day over the previous " +
                                      plural(spike.baseline_days, "day", "days") + ". A misconfigured integration?"));
    }

    // Usage: the 30-day chart, today's requests and the error rate.
    json::array bars;
    for (std::size_t i = 0; i < days.size(); ++i) {
      json::object bar{{"label", format_date(days[i].day)}, {"value", days[i].requests}};
      if (i + 1 == days.size() && spike.spike && active) bar["tone"] = "warning";
      bars.push_back(std::move(bar));
    }
    const double rate = total.error_rate();
    // Without requests there is no rate to speak of ("0%" would read as "all fine").
    json::value rate_value = total.requests == 0 ? json::value(text("no requests", "muted")) : json::value(percent(rate));
    if (total.requests >= 10 && rate >= 0.10)
      rate_value = text(percent(rate), "danger", "Many requests fail: the integration may be misconfigured.");
    json::array usage_cell{
        json::object{{"type", "bar_chart"}, {"label", "Requests per day for " + quoted(k.label) + ", last 30 days"},
                     {"unit", "requests"}, {"max", chart_max}, {"bars", std::move(bars)}},
        json::object{{"type", "facts"},
                     {"items", json::array{json::object{{"label", "Today"}, {"value", std::to_string(days.back().requests)}},
                                           json::object{{"label", "30 days"}, {"value", std::to_string(total.requests)}},
                                           json::object{{"label", "Error rate"}, {"value", std::move(rate_value)}}}}}};

    json::object row{{"id", "key-" + std::to_string(k.id)},
                     {"cells", json::object{{"key", std::move(key_cell)},
                                            {"scopes", std::move(scopes_cell)},
                                            {"created", std::move(created_cell)},
                                            {"last_used", std::move(last_used)},
                                            {"status", std::move(status_cell)},
                                            {"usage", std::move(usage_cell)}}}};
    // Locked: read-only, no actions. Revoked and expired keys cannot come back, so no actions.
    if (enabled && active) {
      json::array actions;
      // A key already replaced is on its way out: revoke it, don't rotate it again.
      const bool replaced = replaced_by.count(k.id) != 0;
      actions.push_back(json::object{{"type", "button"}, {"label", "Edit"}, {"opens", "edit-" + std::to_string(k.id)}});
      modals.push_back(edit_modal(k));
      if (!replaced)
        actions.push_back(json::object{{"type", "button"}, {"label", "Rotate"}, {"opens", "rotate-" + std::to_string(k.id)}});
      if (rotating != in.auto_rotations.end()) {
        const std::string route = "keys/" + std::to_string(k.id) + "/rotation/";
        actions.push_back(json::object{
            {"type", "button"}, {"label", "Finish rotation now"},
            {"action", json::object{{"method", "POST"}, {"route", route + "finish"},
                                    {"confirm", "Revoke the old key " + k.preview + " of " + quoted(k.label) +
                                                    " now? Anything still using it stops working at once."}}}});
        actions.push_back(json::object{
            {"type", "button"}, {"label", "Cancel automatic revoke"},
            {"action", json::object{{"method", "POST"}, {"route", route + "cancel"}}}});
      }
      actions.push_back(json::object{
          {"type", "button"}, {"label", "Revoke"}, {"style", "danger"},
          {"action", json::object{{"method", "POST"}, {"route", "keys/" + std::to_string(k.id) + "/revoke"},
                                  {"confirm", "Revoke " + quoted(k.label) + " (" + k.preview +
                                                  ")? Integrations using it stop working at once. This cannot be undone."}}}});
      row["actions"] = std::move(actions);
      if (!replaced) modals.push_back(rotate_modal(k));
    }
    rows.push_back(std::move(row));
  }

  json::array children;
  if (!enabled)
    children.push_back(json::object{
        {"type", "notice"}, {"tone", "warning"},
        {"title", "API access is not included in your plan"},
        {"text", "New keys cannot be generated, and existing keys do not work until API access is back. "
                 "It is part of the Enterprise tier and available as an addon on other tiers."},
        {"link", json::object{{"text", "Open Billing & Subscription"}, {"href", kBillingPath}}}});

  const bool has_keys = !in.keys.empty() || in.total > 0 || in.clinic_has_keys;
  if (has_keys || in.view == PageView::activity) children.push_back(tabs(in));
  if (in.view == PageView::activity) {
    for (auto& c : activity_children(in)) children.push_back(std::move(c));
  } else if (!has_keys) {
    json::object empty{{"type", "empty_state"},
                       {"title", "No API keys yet"},
                       {"text", enabled ? "An API key lets a tool your developer builds, such as an analytics dashboard, a booking "
                                          "widget on your website or accounting software, work with your clinic's data. You "
                                          "generate a key here and hand it to the developer; you write no code."
                                        : "An API key lets a tool your developer builds, such as an analytics dashboard, a booking "
                                          "widget on your website or accounting software, work with your clinic's data. Keys "
                                          "can be generated here once your plan includes API access."}};
    if (enabled)
      empty["actions"] = json::array{json::object{{"type", "button"}, {"label", "Generate new key"},
                                                  {"style", "primary"}, {"opens", "generate-key"}}};
    children.push_back(std::move(empty));
  } else {
    children.push_back(keys_search_form(in));
    const std::size_t total = std::max(in.total, in.keys.size());
    const std::size_t per_page = in.query.per_page.value_or(std::max<std::size_t>(total, 1));
    const std::size_t pages = std::max<std::size_t>(1, (total + per_page - 1) / per_page);
    const std::size_t first = (in.query.page - 1) * per_page + 1;
    json::array section_children;
    if (in.keys.empty()) {
      section_children.push_back(json::object{
          {"type", "empty_state"}, {"title", "No key matches"},
          {"text", in.query.search.empty() ? "No key has this status." : "No key's label or preview contains \u201C" + in.query.search + "\u201D."},
          {"link", json::object{{"type", "link"}, {"text", "Show the default view"}, {"query", json::object{}}}}});
    } else {
      section_children.push_back(json::object{
          {"type", "table"},
          {"caption", "API keys of your clinic"},
          {"columns", json::array{json::object{{"key", "key"}, {"label", "Key"}},
                                  json::object{{"key", "scopes"}, {"label", "Scopes"}},
                                  json::object{{"key", "created"}, {"label", "Created"}},
                                  json::object{{"key", "last_used"}, {"label", "Last used"}},
                                  json::object{{"key", "status"}, {"label", "Status"}},
                                  json::object{{"key", "usage"}, {"label", "Requests per day (30 days)"}}}},
          {"rows", std::move(rows)}});
      if (pages > 1)
        section_children.push_back(pagination("Pages of keys",
                                              range_text(first, first + in.keys.size() - 1, total, "Key", "Keys"),
                                              in.query.page, pages, [&](std::size_t n) { return keys_query(in, n); }));
    }
    std::string description = range_text(first, first + in.keys.size() - 1, total, "Key", "Keys") + ". ";
    if (in.keys.empty()) description.clear();
    description += enabled ? "Rotate keys every 90 days; revoke a key at once if it has leaked."
                           : "Read-only while API access is not included in your plan.";
    if (in.query.filter == KeyFilter::current) description += " Revoked keys are under the status \u201CRevoked\u201D.";
    children.push_back(json::object{{"type", "section"},
                                    {"title", "Keys"},
                                    {"description", std::move(description)},
                                    {"children", std::move(section_children)}});
  }

  json::object page{{"vm_version", 2},
                    {"type", "page"},
                    {"title", "API Keys"},
                    {"description", "Keys let your developer connect other tools to your clinic. A key is shown once, "
                                    "when it is generated; afterwards only a masked preview is visible."},
                    {"children", std::move(children)},
                    {"modals", std::move(modals)}};
  if (enabled)
    page["actions"] = json::array{json::object{{"type", "button"}, {"label", "Generate new key"},
                                               {"style", "primary"}, {"opens", "generate-key"}}};
  return page;
}

void read_page_query(const std::vector<host::NameValue>& params, ApiKeysPageInput& in) {
  KeyQuery q = ApiKeysPageInput::default_page_query();
  std::vector<host::NameValue> keys_params;
  for (const auto& [name, value] : params) {
    if (name == "view") in.view = value == "activity" ? PageView::activity : PageView::keys;
    else if (name == "key") {
      KeyId id = 0;
      const auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), id);
      if (!value.empty() && ec == std::errc{} && p == value.data() + value.size() && id > 0) in.activity_key = id;
    } else if (name != "per_page") {  // the page's size is the page's to choose
      keys_params.emplace_back(name, value);
    }
  }
  parse_key_query(keys_params, q, false);
  in.events_page = q.page;
  in.query = q;
}

host::PageSpec make_api_keys_page(std::shared_ptr<PluginContext> ctx) {
  host::PageSpec spec;
  spec.id = "api-keys";
  spec.section = "Integrations";
  spec.title = "API Keys";
  spec.path = "integrations/api-keys";
  spec.permission = kManagePermission;
  spec.view_model = [ctx = std::move(ctx)](const host::RouteRequest& req) -> std::string {
    try {
      ApiKeysPageInput in;
      const auto clinic = req.user.clinic_id;
      read_page_query(req.query, in);
      ctx->flush_usage();  // best effort: on failure the figures lag by the pending part
      in.now = ctx->now();
      in.api_access_enabled = ctx->api_access_enabled(clinic);
      in.zone = ctx->zones.get(clinic);
      in.scopes = ctx->host.api_scopes();
      if (in.view == PageView::activity) {
        ctx->keys.sweep_expired(in.now);
        KeyQuery every;
        in.key_choices = ctx->keys.query(clinic, every, in.now).keys;
        in.clinic_has_keys = !in.key_choices.empty();
        in.events_total = ctx->keys.count_events(clinic, in.activity_key);
        const std::size_t pages = std::max<std::size_t>(1, (in.events_total + kEventsPageSize - 1) / kEventsPageSize);
        in.events_page = std::min(in.events_page, pages);
        in.events = ctx->keys.events(clinic, kEventsPageSize, in.activity_key, (in.events_page - 1) * kEventsPageSize);
      } else {
        KeyPage page = ctx->keys.query(clinic, in.query, in.now);
        if (page.keys.empty() && page.total > 0) {  // past the last page (keys were revoked): show the last
          in.query.page = (page.total + kPageSize - 1) / kPageSize;
          page = ctx->keys.query(clinic, in.query, in.now);
        }
        in.total = page.total;
        in.keys = std::move(page.keys);
        in.replaced_by = std::move(page.replaced_by);
        for (auto& w : ctx->auto_rotations.waiting(clinic)) {
          const KeyId old_key = w.old_key_id;
          in.auto_rotations.emplace(old_key, std::move(w));
        }
        if (in.total == 0) {
          KeyQuery any;
          any.per_page = 1;
          in.clinic_has_keys = ctx->keys.query(clinic, any, in.now).total > 0;
        }
        std::vector<KeyId> ids;
        for (const auto& k : in.keys) ids.push_back(k.id);
        const DayNumber today = in.zone.day_of(in.now);
        in.usage = ctx->usage.daily_for_keys(ids, today - (kUsageDays - 1), today);
        in.scope_uses = ctx->usage.scopes_for_keys(ids);
        in.scope_counting_since = ctx->usage.scope_counting_since();
      }
      return json::serialize(build_api_keys_view_model(in));
    } catch (const std::exception& e) {
      ctx->host.log().write(host::LogLevel::error, std::string("API Keys page: could not load keys: ") + e.what());
    } catch (...) {
      ctx->host.log().write(host::LogLevel::error, "API Keys page: could not load keys");
    }
    // A valid page that says so, rather than a host error page.
    return R"({"vm_version":2,"type":"page","title":"API Keys","children":[{"type":"notice","tone":"danger",)"
           R"("title":"Keys could not be loaded","text":"The database did not answer in time. Reload the page in a moment."}]})";
  };
  return spec;
}

}  // namespace mdp::api_access
