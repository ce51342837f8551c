#include "routes/admin_routes.hpp"

#include <algorithm>
#include <charconv>
#include <exception>
#include <limits>
#include <map>
#include <string>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <botan/mem_ops.h>
#include <botan/system_rng.h>
#include <soci/soci.h>

#include "api_access_plugin.hpp"
#include "plugin_context.hpp"
#include "routes/openapi_document.hpp"
#include "usage/least_privilege.hpp"
#include "routes/route_support.hpp"
#include "util/db.hpp"
#include "errors/error_catalogue.hpp"
#include "util/json_error.hpp"

namespace mdp::api_access {

namespace json = boost::json;

namespace {

constexpr std::size_t kMaxLabel = 100;
constexpr std::size_t kMaxDescription = 1000;
constexpr std::int64_t kMaxGraceSeconds = 365LL * 86400;
constexpr int kDefaultDays = 30, kMaxDays = 90;

Actor actor_of(const host::RouteRequest& req) { return Actor{req.user.id, req.user.name}; }

[[noreturn]] void not_found() {
  throw HttpError{404, "key_not_found", "No API key with this id in your clinic."};
}

void require_plan(PluginContext& ctx, host::ClinicId clinic) {
  if (!ctx.api_access_enabled(clinic))
    throw HttpError{403, "api_access_not_enabled",
                    "Your clinic's plan does not include API access. Upgrade to Enterprise or "
                    "buy the API access addon under Settings > Billing & Subscription."};
}

// The body as a JSON object; an empty body is `{}` when `empty_ok`.
json::object parse_object(const std::string& body, bool empty_ok) {
  if (empty_ok && body.find_first_not_of(" \t\r\n") == std::string::npos) return {};
  json::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object())
    throw HttpError{400, "invalid_json", "The request body must be a JSON object."};
  return std::move(v.as_object());
}

std::string label_of(const json::object& body) {
  const json::value* v = body.if_contains("label");
  if (v == nullptr || !v->is_string())
    throw HttpError{400, "invalid_label", "Give the key a label, e.g. \"Power BI sync\"."};
  std::string label(v->as_string());
  const std::size_t n = count_code_points(label);
  if (n == 0 || label.find_first_not_of(" \t\r\n") == std::string::npos || n > kMaxLabel)
    throw HttpError{400, "invalid_label", "The label must have 1 to 100 characters."};
  // U+0000 is the one character PostgreSQL text cannot hold; refusing it keeps both dialects alike.
  if (label.find('\0') != std::string::npos)
    throw HttpError{400, "invalid_label", "The label must not contain the NUL character."};
  return label;
}

std::vector<std::string> scopes_of(PluginContext& ctx, const json::object& body) {
  const json::value* v = body.if_contains("scopes");
  if (v == nullptr || v->is_null()) return {"read"};  // read-only: the safe default
  if (!v->is_array())
    throw HttpError{400, "invalid_json", "\"scopes\" must be an array of scope names."};
  const auto& arr = v->as_array();
  if (arr.empty())
    throw HttpError{400, "missing_scope", "Choose at least one scope, e.g. \"read\"."};
  const auto& known = ctx.host.api_scopes();
  std::vector<std::string> out;
  for (const auto& s : arr) {
    if (!s.is_string())
      throw HttpError{400, "invalid_json", "\"scopes\" must be an array of scope names."};
    const std::string name(s.as_string());
    const bool exists = std::any_of(known.begin(), known.end(),
                                    [&](const host::ApiScope& k) { return k.id == name; });
    if (!exists) {
      std::string shown = name.substr(0, 64);
      throw HttpError{400, "unknown_scope", "Unknown scope \"" + shown + "\"."};
    }
    if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
  }
  return out;
}

// "expires_at": an RFC 3339 time, or a calendar date "YYYY-MM-DD" meaning "through that day":
// the key expires when the clinic's next day begins (its time zone, host::Clinic::time_zone).
std::optional<Micros> expiry_of(PluginContext& ctx, host::ClinicId clinic, const json::object& body) {
  const json::value* v = body.if_contains("expires_at");
  if (v == nullptr || v->is_null()) return std::nullopt;
  const Micros now = ctx.now();
  std::optional<Micros> t;
  if (v->is_string()) {
    const std::string_view text = v->as_string();
    if (auto day = parse_date(text)) {
      static const DayNumber kLastDay = *parse_date("9999-12-30");  // its end is still a 4-digit year
      if (*day <= kLastDay) t = ctx.zones.get(clinic).start_of_day(*day + 1);
    }
    else t = parse_rfc3339(text);
  }
  if (t) t = floor_seconds(*t);
  if (!t || *t <= now)
    throw HttpError{400, "invalid_expiry",
                    "\"expires_at\" must be a future time in RFC 3339, e.g. "
                    "\"2027-01-31T00:00:00Z\", or a date, e.g. \"2027-01-31\" (the key works through that day)."};
  return t;
}

std::string description_of(const json::value& v) {
  if (!v.is_string())
    throw HttpError{400, "invalid_description", "\"description\" must be a string (\"\" for none)."};
  std::string d(v.as_string());
  if (count_code_points(d) > kMaxDescription || d.find('\0') != std::string::npos)
    throw HttpError{400, "invalid_description",
                    "The description must have at most 1000 characters and no NUL character."};
  return d;
}

// {"requests": N, "per_seconds": S}, or null for the plan's default.
std::optional<RateLimit> rate_limit_of(const json::value& v) {
  if (v.is_null()) return std::nullopt;
  const char* message =
      "\"rate_limit\" must be null (the plan's default) or {\"requests\": N, \"per_seconds\": S} "
      "with N from 1 to 1000000 and S from 1 to 86400.";
  if (!v.is_object() || v.as_object().size() != 2) throw HttpError{400, "invalid_rate_limit", message};
  auto whole = [&](const char* name, std::uint32_t max) -> std::uint32_t {
    const json::value* n = v.as_object().if_contains(name);
    if (n == nullptr) throw HttpError{400, "invalid_rate_limit", message};
    if (n->is_int64() && n->as_int64() >= 1 && n->as_int64() <= max)
      return static_cast<std::uint32_t>(n->as_int64());
    if (n->is_uint64() && n->as_uint64() >= 1 && n->as_uint64() <= max)
      return static_cast<std::uint32_t>(n->as_uint64());
    throw HttpError{400, "invalid_rate_limit", message};
  };
  return RateLimit{whole("requests", RateLimit::kMaxRequests),
                   whole("per_seconds", RateLimit::kMaxPerSeconds)};
}

// ["203.0.113.0/24", "2001:db8::/32", ...]; [] = anywhere.
AddressFilter allowed_ips_of(const json::value& v) {
  if (!v.is_array())
    throw HttpError{400, "invalid_allowed_ips",
                    "\"allowed_ips\" must be an array of IP addresses or CIDR networks ([] = anywhere)."};
  std::vector<std::string> entries;
  for (const auto& e : v.as_array()) {
    if (!e.is_string())
      throw HttpError{400, "invalid_allowed_ips",
                      "\"allowed_ips\" must be an array of IP addresses or CIDR networks."};
    entries.emplace_back(e.as_string());
  }
  std::string error;
  auto f = AddressFilter::parse(entries, error);
  if (!f) throw HttpError{400, "invalid_allowed_ips", error};
  return *f;
}

// Refuses members a route does not know, so a misspelt field never passes silently.
void only_members(const json::object& body, std::initializer_list<std::string_view> known) {
  for (const auto& kv : body)
    if (std::find(known.begin(), known.end(), kv.key()) == known.end()) {
      std::string name(kv.key().substr(0, 64));
      throw HttpError{400, "unknown_field", "Unknown field \"" + name + "\"."};
    }
}

// A fresh key for `clinic`; the secret goes into `secret` and nowhere else.
NewKey new_key(PluginContext& ctx, const host::RouteRequest& req, std::string& secret) {
  Botan::System_RNG rng;
  secret = generate_key(rng);
  NewKey k;
  k.clinic_id = req.user.clinic_id;
  k.key_hash = to_hex(digest_of(secret));
  k.preview = preview_of(secret);
  k.created_by = actor_of(req);
  k.created_at = ctx.now_seconds();
  return k;
}

// The old key's waiting rotation as JSON, or null.
json::value auto_rotation_of(PluginContext& ctx, const KeyRecord& old_key) {
  for (const auto& w : ctx.auto_rotations.waiting(old_key.clinic_id))
    if (w.old_key_id == old_key.id) return to_json(w, ctx.now());
  return nullptr;
}

host::Response created(PluginContext& ctx, const KeyRecord& rec, std::string& secret,
                       const KeyRecord* rotated, json::value auto_rotation = nullptr) {
  json::object body;
  body["key"] = to_json(rec, ctx.now());
  body["secret"] = secret;
  if (rotated != nullptr) {
    body["rotated_key"] = to_json(*rotated, ctx.now());
    body["rotated_key"].as_object()["auto_rotation"] = std::move(auto_rotation);
  }
  Botan::secure_scrub_memory(secret.data(), secret.size());
  host::Response out = json_response(201, body);
  // The JSON tree's own copy of the secret; the serialised body is the host's to wipe once sent.
  json::string& copy = body["secret"].as_string();
  Botan::secure_scrub_memory(copy.data(), copy.size());
  return out;
}

// --- handlers -------------------------------------------------------------------------------

// GET keys?q=&status=&sort=&page=&per_page= (keys/key_query.hpp). Without parameters: every
// key, newest first, as before paging existed.
host::Response list_keys(PluginContext& ctx, const host::RouteRequest& req) {
  KeyQuery q;
  if (auto bad = parse_key_query(req.query, q, true)) throw HttpError{400, "invalid_query", bad->message};
  ctx.flush_usage();  // last_used_at exact; a failed flush only makes it lag
  const Micros now = ctx.now();
  const KeyPage page = ctx.keys.query(req.user.clinic_id, q, now);
  std::map<KeyId, const WaitingRotation*> rotating;  // old key -> its waiting rotation
  const auto waiting = ctx.auto_rotations.waiting(req.user.clinic_id);
  for (const auto& w : waiting) rotating[w.old_key_id] = &w;
  std::vector<KeyId> ids;
  for (const auto& k : page.keys) ids.push_back(k.id);
  const auto scope_uses = ctx.usage.scopes_for_keys(ids);
  const auto counting_since = ctx.usage.scope_counting_since();
  const auto& host_scopes = ctx.host.api_scopes();
  json::array keys;
  for (const auto& k : page.keys) {
    json::object o = to_json(k, now);
    static const std::vector<ScopeUse> kNone;
    const auto uses = scope_uses.find(k.id);
    if (auto lp = least_privilege(k, uses == scope_uses.end() ? kNone : uses->second, counting_since, host_scopes, now)) {
      json::array unused, used;
      for (const auto& s : lp->unused_write) unused.emplace_back(s);
      for (const auto& s : lp->used) used.emplace_back(s);
      o["least_privilege"] = json::object{{"unused_write_scopes", std::move(unused)}, {"used_scopes", std::move(used)}};
    } else {
      o["least_privilege"] = nullptr;
    }
    auto r = rotating.find(k.id);
    o["auto_rotation"] = r != rotating.end() ? json::value(to_json(*r->second, now)) : json::value(nullptr);
    keys.push_back(std::move(o));
  }
  json::object body{{"keys", std::move(keys)}, {"total", page.total}};
  if (q.per_page) {
    body["page"] = q.page;
    body["per_page"] = *q.per_page;
  }
  return json_response(200, body);
}

host::Response create_key(PluginContext& ctx, const host::RouteRequest& req) {
  require_plan(ctx, req.user.clinic_id);
  const json::object body = parse_object(req.body, false);
  std::string label = label_of(body);
  auto scopes = scopes_of(ctx, body);
  auto expires = expiry_of(ctx, req.user.clinic_id, body);
  std::string secret;
  NewKey k = new_key(ctx, req, secret);
  k.label = std::move(label);
  k.scopes = std::move(scopes);
  k.expires_at = expires;
  if (const json::value* d = body.if_contains("description")) k.description = description_of(*d);
  if (const json::value* r = body.if_contains("rate_limit")) k.rate_limit = rate_limit_of(*r);
  if (const json::value* a = body.if_contains("allowed_ips")) k.allowed = allowed_ips_of(*a);
  const KeyRecord rec = ctx.keys.create(k);
  ctx.host.log().write(host::LogLevel::info,
                       "API key " + rec.preview + " (id " + std::to_string(rec.id) +
                           ") created for clinic " + std::to_string(rec.clinic_id) + " by user " +
                           std::to_string(req.user.id));
  return created(ctx, rec, secret, nullptr);
}

host::Response revoke_key(PluginContext& ctx, const host::RouteRequest& req) {
  const KeyId id = key_id_param(req);
  auto rec = ctx.keys.revoke(req.user.clinic_id, id, actor_of(req), ctx.now_seconds());
  if (!rec) not_found();
  ctx.key_changed(*rec);  // before answering: the next API request is refused
  ctx.host.log().write(host::LogLevel::info, "API key " + rec->preview + " (id " +
                                                 std::to_string(rec->id) + ") revoked by user " +
                                                 std::to_string(req.user.id));
  return json_response(200, json::object{{"key", to_json(*rec, ctx.now())}});
}

host::Response rotate_key(PluginContext& ctx, const host::RouteRequest& req) {
  const KeyId id = key_id_param(req);
  require_plan(ctx, req.user.clinic_id);
  const json::object body = parse_object(req.body, true);
  std::optional<Micros> old_expires;
  if (const json::value* g = body.if_contains("grace_seconds"); g != nullptr && !g->is_null()) {
    std::int64_t secs = -1;
    if (g->is_int64()) secs = g->as_int64();
    else if (g->is_uint64() && g->as_uint64() <= static_cast<std::uint64_t>(kMaxGraceSeconds))
      secs = static_cast<std::int64_t>(g->as_uint64());
    if (secs < 0 || secs > kMaxGraceSeconds)
      throw HttpError{400, "invalid_grace_seconds",
                      "\"grace_seconds\" must be a whole number of seconds from 0 to 31536000."};
    // Exactly `secs` after the rotation as recorded (the new key's created_at, a whole second):
    // a one-hour grace reads as 3,600 s between the two stored times, never 3,601.
    old_expires = ctx.now_seconds() + secs * kMicrosPerSecond;
  }
  // "finish_automatically": true, or {"quiet_seconds": N}: revoke the old key once the
  // integration has switched (rotation/auto_rotation_store.hpp), after N s unused (default 24 h).
  bool finish_automatically = false;
  std::int64_t quiet = kDefaultQuietSeconds;
  if (const json::value* f = body.if_contains("finish_automatically"); f != nullptr && !f->is_null()) {
    if (f->is_bool()) {
      finish_automatically = f->as_bool();
    } else if (f->is_object()) {
      finish_automatically = true;
      only_members(f->as_object(), {"quiet_seconds"});
      if (const json::value* q = f->as_object().if_contains("quiet_seconds"); q != nullptr && !q->is_null()) {
        std::int64_t secs = -1;
        if (q->is_int64()) secs = q->as_int64();
        else if (q->is_uint64() && q->as_uint64() <= static_cast<std::uint64_t>(kMaxQuietSeconds))
          secs = static_cast<std::int64_t>(q->as_uint64());
        if (secs < kMinQuietSeconds || secs > kMaxQuietSeconds)
          throw HttpError{400, "invalid_quiet_seconds",
                          "\"quiet_seconds\" must be a whole number of seconds from 60 to 2592000."};
        quiet = secs;
      }
    } else {
      throw HttpError{400, "invalid_json",
                      "\"finish_automatically\" must be true, false or {\"quiet_seconds\": N}."};
    }
  }
  RotateAlso also;
  if (finish_automatically) {
    const Actor by = actor_of(req);
    const Micros at = ctx.now_seconds();
    also.detail = "the old key is revoked automatically once unused for " + duration_words(quiet) +
                  " after the new key works";
    also.in_transaction = [quiet, by, at](soci::session& sql, const KeyRecord& old_key, KeyId new_id) {
      AutoRotationStore::start(sql, old_key, new_id, quiet, by, at);
    };
  }
  std::string secret;
  NewKey k = new_key(ctx, req, secret);
  auto pair = ctx.keys.rotate(id, k, old_expires, also);
  if (!pair) {
    Botan::secure_scrub_memory(secret.data(), secret.size());
    not_found();
  }
  ctx.key_changed(pair->second);
  ctx.host.log().write(host::LogLevel::info,
                       "API key " + pair->second.preview + " (id " + std::to_string(id) +
                           ") rotated to " + pair->first.preview + " (id " +
                           std::to_string(pair->first.id) + ") by user " +
                           std::to_string(req.user.id));
  return created(ctx, pair->first, secret, &pair->second, auto_rotation_of(ctx, pair->second));
}

// POST keys/{id}/rotation/finish and .../cancel: the old key `id`'s waiting rotation.
host::Response end_rotation(PluginContext& ctx, const host::RouteRequest& req, bool finish) {
  const KeyId id = key_id_param(req);
  const Actor by = actor_of(req);
  const auto outcome = finish ? ctx.auto_rotations.finish(req.user.clinic_id, id, by, ctx.now_seconds())
                              : ctx.auto_rotations.cancel(req.user.clinic_id, id, by, ctx.now_seconds());
  switch (outcome) {
    case AutoRotationStore::AdminOutcome::no_such_key: not_found();
    case AutoRotationStore::AdminOutcome::not_waiting:
      throw HttpError{409, "rotation_not_waiting", "This key has no rotation waiting to finish automatically."};
    case AutoRotationStore::AdminOutcome::done: break;
  }
  auto rec = ctx.keys.get(req.user.clinic_id, id);
  if (!rec) not_found();
  if (finish) ctx.key_changed(*rec);  // before answering: the next API request is refused
  ctx.host.log().write(host::LogLevel::info, "API key " + rec->preview + " (id " + std::to_string(id) +
                                                 "): rotation " + (finish ? "finished" : "cancelled") +
                                                 " by user " + std::to_string(req.user.id));
  return json_response(200, json::object{{"key", to_json(*rec, ctx.now())}});
}

host::Response finish_rotation(PluginContext& ctx, const host::RouteRequest& req) {
  return end_rotation(ctx, req, true);
}
host::Response cancel_rotation(PluginContext& ctx, const host::RouteRequest& req) {
  return end_rotation(ctx, req, false);
}

// PATCH keys/{id}: any of label, description, scopes (narrower only), rate_limit, allowed_ips.
host::Response update_key(PluginContext& ctx, const host::RouteRequest& req) {
  const KeyId id = key_id_param(req);
  const json::object body = parse_object(req.body, false);
  only_members(body, {"label", "description", "scopes", "rate_limit", "allowed_ips"});
  KeyUpdate u;
  if (body.contains("label")) u.label = label_of(body);
  if (const json::value* d = body.if_contains("description")) u.description = description_of(*d);
  if (const json::value* s = body.if_contains("scopes")) {
    if (s->is_null())
      throw HttpError{400, "invalid_json", "\"scopes\" must be an array of scope names."};
    u.scopes = scopes_of(ctx, body);
  }
  if (const json::value* r = body.if_contains("rate_limit")) u.rate_limit = rate_limit_of(*r);
  if (const json::value* a = body.if_contains("allowed_ips")) u.allowed = allowed_ips_of(*a);
  if (u.empty())
    throw HttpError{400, "nothing_to_change",
                    "Send at least one of label, description, scopes, rate_limit, allowed_ips."};
  // Narrowing what a key may do is always allowed, also when the plan lapsed; only creating
  // and rotating keys need the plan.
  UpdateResult r = ctx.keys.update(req.user.clinic_id, id, u, actor_of(req), ctx.now_seconds());
  switch (r.outcome) {
    case UpdateResult::Outcome::not_found: not_found();
    case UpdateResult::Outcome::scope_widening:
      throw HttpError{400, "scope_widening",
                      "A key's scopes can only be reduced; \"" + r.detail.substr(0, 64) +
                          "\" is not one of this key's scopes. For wider access, generate a new key."};
    case UpdateResult::Outcome::revoked:
      throw HttpError{409, "key_revoked",
                      "This key is revoked: its scopes, rate limit and addresses can no longer "
                      "change (its label and description can)."};
    case UpdateResult::Outcome::updated: break;
  }
  if (u.changes_rules()) ctx.key_rules_changed(id);  // enforced here before we answer
  if (!r.detail.empty())
    ctx.host.log().write(host::LogLevel::info, "API key " + r.key->preview + " (id " +
                                                   std::to_string(id) + ") updated by user " +
                                                   std::to_string(req.user.id));
  return json_response(200, json::object{{"key", to_json(*r.key, ctx.now())}});
}

// GET events?key_id=&limit=&offset=: newest first; key_id narrows to one key's history.
host::Response list_events(PluginContext& ctx, const host::RouteRequest& req) {
  std::optional<KeyId> key;
  std::size_t limit = 1000, offset = 0;
  auto number = [&](const char* name, long long lo, long long hi, const char* message) -> std::optional<long long> {
    const std::string* v = req.query_value(name);
    if (v == nullptr) return std::nullopt;
    long long n = 0;
    const auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
    if (v->empty() || ec != std::errc{} || p != v->data() + v->size() || n < lo || n > hi)
      throw HttpError{400, "invalid_query", message};
    return n;
  };
  if (auto k = number("key_id", 1, std::numeric_limits<long long>::max(), "\"key_id\" must be a key's id.")) {
    if (!ctx.keys.get(req.user.clinic_id, *k)) not_found();
    key = *k;
  }
  if (auto n = number("limit", 1, 1000, "\"limit\" must be a whole number from 1 to 1000.")) limit = static_cast<std::size_t>(*n);
  if (auto n = number("offset", 0, 1'000'000'000, "\"offset\" must be a whole number from 0.")) offset = static_cast<std::size_t>(*n);
  ctx.keys.sweep_expired(ctx.now());
  json::array events;
  for (const auto& e : ctx.keys.events(req.user.clinic_id, limit, key, offset)) events.push_back(to_json(e));
  return json_response(200, json::object{{"events", std::move(events)},
                                         {"total", ctx.keys.count_events(req.user.clinic_id, key)}});
}

host::Response key_usage(PluginContext& ctx, const host::RouteRequest& req) {
  const KeyId id = key_id_param(req);
  int days = kDefaultDays;
  if (const std::string* q = req.query_value("days")) {
    int n = 0;
    const auto [p, ec] = std::from_chars(q->data(), q->data() + q->size(), n);
    if (q->empty() || ec != std::errc{} || p != q->data() + q->size() || n < 1 || n > kMaxDays)
      throw HttpError{400, "invalid_days", "\"days\" must be a whole number from 1 to 90."};
    days = n;
  }
  if (!ctx.keys.get(req.user.clinic_id, id)) not_found();
  ctx.flush_usage();  // include what was counted but not yet written
  const DayNumber today = ctx.zones.get(req.user.clinic_id).day_of(ctx.now());  // the clinic's day
  const auto daily = ctx.usage.daily(id, today - (days - 1), today);
  const UsageTotals t = totals(daily);
  json::array arr;
  for (const auto& d : daily)
    arr.push_back(json::object{{"date", format_date(d.day)},
                               {"requests", d.requests},
                               {"client_errors", d.client_errors},
                               {"server_errors", d.server_errors},
                               {"rate_limited", d.rate_limited}});
  json::array scopes;  // per scope used: requests and the last one (since counting began)
  if (auto u = ctx.usage.scopes_for_keys({id}); u.count(id))
    for (const auto& s : u.at(id))
      scopes.push_back(json::object{{"scope", s.scope}, {"requests", s.requests},
                                    {"last_used_at", format_rfc3339(s.last_used_at)}});
  json::object body;
  body["key_id"] = id;
  body["days"] = std::move(arr);
  body["scopes"] = std::move(scopes);
  body["requests"] = t.requests;
  body["client_errors"] = t.client_errors;
  body["server_errors"] = t.server_errors;
  body["rate_limited"] = t.rate_limited;
  body["error_rate"] = t.error_rate();
  return json_response(200, body);
}

host::Response error_page(PluginContext&, const host::RouteRequest&) {
  host::Response r;
  r.content_type = "text/html; charset=utf-8";
  r.body = errors_html();
  r.headers.emplace_back("Cache-Control", "public, max-age=3600");
  return r;
}

// The OpenAPI document of these routes and of what the plugin adds to the public API.
host::Response openapi_json(PluginContext&, const host::RouteRequest&) {
  host::Response r;
  r.body = std::string(openapi_document());
  r.headers.emplace_back("Cache-Control", "public, max-age=3600");
  return r;
}

}  // namespace

std::size_t count_code_points(std::string_view s) noexcept {
  std::size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

std::vector<host::RouteSpec> make_admin_routes(std::shared_ptr<PluginContext> ctx) {
  const std::string perm = kManagePermission;
  return {
      {"GET", "keys", perm, "List the clinic's API keys", guarded(ctx, &list_keys)},
      {"POST", "keys", perm, "Create an API key (the secret is returned once)",
       guarded(ctx, &create_key)},
      {"PATCH", "keys/{id}", perm,
       "Change an API key's label, description, rate limit or allowed addresses, or reduce its scopes",
       guarded(ctx, &update_key)},
      {"POST", "keys/{id}/revoke", perm, "Revoke an API key", guarded(ctx, &revoke_key)},
      {"POST", "keys/{id}/rotate", perm, "Replace an API key, optionally with a grace period",
       guarded(ctx, &rotate_key)},
      {"POST", "keys/{id}/rotation/finish", perm,
       "Finish a rotation that waits to revoke this old key: revoke it now", guarded(ctx, &finish_rotation)},
      {"POST", "keys/{id}/rotation/cancel", perm,
       "Cancel the automatic revocation of this old key after its rotation", guarded(ctx, &cancel_rotation)},
      {"GET", "events", perm, "The clinic's API key audit trail", guarded(ctx, &list_events)},
      {"GET", "keys/{id}/usage", perm, "Requests per day and error rate of an API key",
       guarded(ctx, &key_usage)},
      // Open to anyone: error bodies link here ("doc"), and integrators have no session.
      {"GET", "errors", host::kPublicPermission, "The plugin's error codes and what to do",
       guarded(ctx, &error_page)},
      // Open to anyone, like the error page: integrators and their tools read it.
      {"GET", "openapi.json", host::kPublicPermission,
       "The OpenAPI 3.1 document of the plugin's routes and of what it adds to the public API",
       guarded(ctx, &openapi_json)},
  };
}

}  // namespace mdp::api_access
