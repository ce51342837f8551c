#include "notify/notice_rules.hpp"

#include <chrono>
#include <cstdio>

#include "keys/key_query.hpp"
#include "usage/spike.hpp"

namespace mdp::api_access {

namespace {

using Severity = host::NotificationSeverity;

std::string count_of(std::int64_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

std::int64_t days_between(Micros from, Micros to) { return (to - from) / kMicrosPerDay; }

// The API Keys page, searched for this key's last characters (its preview ends with them).
std::string page_link(const KeyFacts& k) {
  std::string link = "/settings/integrations/api-keys";
  if (k.preview.size() >= 4) {
    const std::string tail = k.preview.substr(k.preview.size() - 4);
    bool plain = true;
    for (char c : tail) plain = plain && ((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'));
    if (plain) link += "?q=" + tail + "&status=all";
  }
  return link;
}

std::string named(const KeyFacts& k) { return "\"" + k.label + "\" (" + k.preview + ")"; }

Notice make(const KeyFacts& k, std::string cause, std::string key_suffix, Severity sev, std::string subject,
            std::string body) {
  Notice n;
  n.clinic_id = k.clinic_id;
  n.key_id = k.id;
  n.notice_key = "key/" + std::to_string(k.id) + "/" + key_suffix;
  n.cause = std::move(cause);
  n.severity = sev;
  n.subject = std::move(subject);
  n.body = std::move(body);
  n.link = page_link(k);
  return n;
}

bool active_at(const KeyFacts& k, Micros now) {
  return !k.revoked_at && (!k.expires_at || *k.expires_at > now);
}

// The spike on `day_index` of k.recent (judged against the days before it), if any.
std::optional<Spike> spike_on(const KeyFacts& k, std::size_t day_index) {
  if (day_index >= k.recent.size()) return std::nullopt;
  std::vector<DayUsage> upto(k.recent.begin(), k.recent.begin() + static_cast<std::ptrdiff_t>(day_index) + 1);
  const Spike s = detect_spike(upto, k.zone.day_of(k.created_at));
  if (!s.spike) return std::nullopt;
  return s;
}

}  // namespace

std::string severity_name(host::NotificationSeverity s) {
  switch (s) {
    case Severity::warning: return "warning";
    case Severity::danger: return "danger";
    case Severity::info: break;
  }
  return "info";
}

std::vector<Notice> key_notices(const KeyFacts& k, Micros now) {
  std::vector<Notice> out;
  if (k.revoked_at) {
    if (k.revoked_reason == "leak_report" && now - *k.revoked_at < kRevokedNoticeWindowDays * kMicrosPerDay)
      out.push_back(make(k, "revoked_leak", "revoked_leak", Severity::danger,
                         "API key \"" + k.label + "\" was revoked: it was reported as leaked",
                         "The API key " + named(k) + " was found where anyone could read it and was reported "
                         "to MyDentalPractice, so it was revoked at once. Requests with it are now refused.\n\n"
                         "If an integration still needs access, generate a new key on the API Keys page and give "
                         "it to your developer through a password manager, never e-mail or chat. The page says "
                         "where the key was found."));
    if (k.revoked_automatically && now - *k.revoked_at < kRevokedNoticeWindowDays * kMicrosPerDay)
      out.push_back(make(k, "revoked_auto", "revoked_auto", Severity::info,
                         "API key \"" + k.label + "\" was revoked automatically after its rotation",
                         "The API key " + named(k) + " was replaced by a new key, the integration has "
                         "switched to the new one, and the old key went unused for the time you chose, so it was "
                         "revoked as you asked when rotating. Requests with the old key are now refused.\n\n"
                         "Nothing else to do. If something still needed the old key, it now needs the new one."));
    return out;
  }
  if (!active_at(k, now)) return out;

  const std::int64_t age = days_between(k.created_at, now);
  if (age >= kRotationDueDays) {
    out.push_back(make(k, "rotation_due", "rotation_due", Severity::warning,
                       "API key \"" + k.label + "\" is due for rotation",
                       "The API key " + named(k) + " was created " + count_of(age, "day", "days") +
                           " ago. Keys should be rotated every 90 days.\n\n"
                           "On the API Keys page, choose Rotate, have your developer switch the integration to "
                           "the new key, then revoke the old one."));
  } else if (age >= kRotationDueDays - kRotationNoticeLeadDays) {
    const std::int64_t left = kRotationDueDays - age;
    out.push_back(make(k, "rotation_soon", "rotation_soon", Severity::info,
                       "API key \"" + k.label + "\" is due for rotation in " + count_of(left, "day", "days"),
                       "The API key " + named(k) + " turns 90 days old in " + count_of(left, "day", "days") +
                           ". Plan the rotation with your developer: rotate it on the API Keys page, switch the "
                           "integration to the new key, then revoke the old one."));
  }
  if (k.expires_at && *k.expires_at - now <= kExpiryNoticeLeadDays * kMicrosPerDay) {
    const Micros left = *k.expires_at - now;
    const std::int64_t days = (left + kMicrosPerDay - 1) / kMicrosPerDay;
    out.push_back(make(k, "expiring_soon", "expiring_soon", Severity::warning,
                       "API key \"" + k.label + "\" expires in " + count_of(days, "day", "days"),
                       "The API key " + named(k) + " stops working at " + k.zone.format_minutes(*k.expires_at) +
                           ". If an integration still uses it, generate a replacement (Rotate on the API Keys "
                           "page) and have your developer switch to it before then."));
  }
  const Micros quiet_since = k.last_used_at.value_or(k.created_at);
  const std::int64_t quiet = days_between(quiet_since, now);
  if (quiet >= kUnusedHintDays) {
    out.push_back(make(k, "unused", "unused", Severity::info,
                       "API key \"" + k.label + "\" has not been used for " + count_of(quiet, "day", "days"),
                       std::string(k.last_used_at ? "The API key " + named(k) + " was last used " +
                                                        count_of(quiet, "day", "days") + " ago."
                                                  : "The API key " + named(k) + " has never been used since it was created " +
                                                        count_of(quiet, "day", "days") + " ago.") +
                           " If nothing uses it any more, revoke it on the API Keys page: a key that exists can leak."));
  }
  const DayNumber today = k.zone.day_of(now);
  if (!k.recent.empty() && k.recent.back().day == today) {
    if (auto s = spike_on(k, k.recent.size() - 1)) {
      char mean[32];
      std::snprintf(mean, sizeof mean, "%.0f", s->baseline);
      const auto requests = static_cast<std::int64_t>(k.recent.back().requests);
      out.push_back(make(k, "spike", "spike/" + format_date(today), Severity::danger,
                         "Spike in requests with API key \"" + k.label + "\"",
                         "Today the API key " + named(k) + " made " + count_of(requests, "request", "requests") +
                             ", against about " + mean + " a day over the previous " +
                             count_of(s->baseline_days, "day", "days") +
                             ". A misconfigured integration, or someone else using the key?\n\n"
                             "Check with your developer. If the key may have leaked, revoke it on the API Keys page: "
                             "that takes effect at once."));
    }
  }
  return out;
}

std::string iso_week(DayNumber day) {
  using namespace std::chrono;
  const sys_days d{days{day}};
  const weekday wd{d};
  const int iso_wd = wd.iso_encoding();  // Monday 1 .. Sunday 7
  const sys_days thursday = d + days{4 - iso_wd};
  const year_month_day ymd{thursday};
  const sys_days jan1{ymd.year() / January / 1};
  const int week = static_cast<int>((thursday - jan1).count() / 7 + 1);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-W%02d", static_cast<int>(ymd.year()), week);
  return buf;
}

std::string digest_key(const ClinicZone& zone, Micros now) { return "digest/" + iso_week(zone.day_of(now)); }

std::optional<Notice> weekly_digest(host::ClinicId clinic, const ClinicZone& zone, const std::vector<KeyFacts>& keys,
                                    Micros now) {
  std::vector<std::string> actions, anomalies;
  std::uint64_t week_requests = 0;
  int active = 0;
  const DayNumber today = zone.day_of(now);
  for (const auto& k : keys) {
    if (k.revoked_at) {
      if (k.revoked_reason == "leak_report" && now - *k.revoked_at < kRevokedNoticeWindowDays * kMicrosPerDay)
        anomalies.push_back(named(k) + " was revoked after a leak report.");
      continue;
    }
    if (!active_at(k, now)) continue;
    ++active;
    for (std::size_t i = 0; i < k.recent.size(); ++i) {
      if (k.recent[i].day <= today - 7 || k.recent[i].day > today) continue;
      week_requests += k.recent[i].requests;
      if (auto s = spike_on(k, i))
        anomalies.push_back(named(k) + ": a spike on " + format_date(k.recent[i].day) + " (" +
                            count_of(static_cast<std::int64_t>(k.recent[i].requests), "request", "requests") + ").");
    }
    const std::int64_t age = days_between(k.created_at, now);
    if (age >= kRotationDueDays) actions.push_back("Rotate " + named(k) + ": created " + count_of(age, "day", "days") + " ago.");
    else if (age >= kRotationDueDays - kRotationNoticeLeadDays)
      actions.push_back("Plan the rotation of " + named(k) + ": 90 days old in " +
                        count_of(kRotationDueDays - age, "day", "days") + ".");
    if (k.expires_at && *k.expires_at - now <= kExpiryNoticeLeadDays * kMicrosPerDay)
      actions.push_back("Replace " + named(k) + ": it expires on " + k.zone.format_day(*k.expires_at) + ".");
    const std::int64_t quiet = days_between(k.last_used_at.value_or(k.created_at), now);
    if (quiet >= kUnusedHintDays)
      actions.push_back("Revoke " + named(k) + " if nothing uses it: no request for " + count_of(quiet, "day", "days") + ".");
  }
  if (actions.empty() && anomalies.empty()) return std::nullopt;
  Notice n;
  n.clinic_id = clinic;
  n.notice_key = digest_key(zone, now);
  n.cause = "digest";
  n.severity = anomalies.empty() ? Severity::info : Severity::warning;
  const std::size_t todo = actions.size() + anomalies.size();
  n.subject = "API keys this week: " + count_of(static_cast<std::int64_t>(todo), "thing", "things") + " to look at";
  n.body = count_of(active, "active API key", "active API keys") + ", " +
           count_of(static_cast<std::int64_t>(week_requests), "request", "requests") + " in the last 7 days.";
  if (!anomalies.empty()) {
    n.body += "\n\nAnomalies:";
    for (const auto& a : anomalies) n.body += "\n- " + a;
  }
  if (!actions.empty()) {
    n.body += "\n\nTo do:";
    for (const auto& a : actions) n.body += "\n- " + a;
  }
  n.link = "/settings/integrations/api-keys";
  return n;
}

}  // namespace mdp::api_access
