#include "app/application.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <optional>

#include <boost/container/small_vector.hpp>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <soci/soci.h>

#include "app/compression.hpp"
#include "render/assets.hpp"
#include "render/render.hpp"
#include "services/host_schema.hpp"
#include "services/prometheus_metrics.hpp"
#include "util/rfc3339.hpp"

namespace mdp::devhost {

namespace json = boost::json;
using namespace std::chrono_literals;

// ---------------------------------------------------------------------------------------------
// Small helpers

// Header names are ASCII (RFC 9110); plain ASCII folding avoids a locale-aware libc call per
// character on every API request (the hook asks for two headers each time).
bool iequals(std::string_view a, std::string_view b) noexcept {
  constexpr auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

std::string_view HttpRequest::header(std::string_view name) const noexcept {
  for (const auto& [k, v] : headers)
    if (iequals(k, name)) return v;
  return {};
}

std::size_t HttpRequest::header_values(std::string_view name, std::string_view* out,
                                       std::size_t max) const noexcept {
  std::size_t n = 0;
  for (const auto& [k, v] : headers) {
    if (!iequals(k, name)) continue;
    if (n < max && out != nullptr) out[n] = v;
    ++n;
  }
  return n;
}

HttpResponse json_error(int status, std::string_view code, std::string_view message) {
  json::object err{{"code", code}, {"message", message}};
  return HttpResponse{status, "application/json", json::serialize(json::object{{"error", err}}), {}};
}

// A hook refused without writing a body (it could not allocate one): still a clear JSON error.
HttpResponse refusal_without_body(int status) {
  if (status == 401) return json_error(401, "unauthorized", "The API key was not accepted.");
  if (status >= 500) return json_error(status, "service_unavailable", "The API could not check the request; try again shortly.");
  return json_error(status, "forbidden", "The API refused this request.");
}

namespace {

// Retry-After of a 503 caused by the database: the pool retries a dead connection at least every
// half second (services/soci_database.hpp).
constexpr const char* kRetryAfterSeconds = "2";

HttpResponse json_response(int status, const json::value& v) {
  return HttpResponse{status, "application/json", json::serialize(v), {}};
}

HttpResponse html_response(int status, std::string body) {
  return HttpResponse{status, "text/html; charset=utf-8", std::move(body), {}};
}

HttpResponse redirect(std::string location) {
  HttpResponse r{302, "text/plain; charset=utf-8", "", {}};
  r.headers.emplace_back("Location", std::move(location));
  return r;
}

bool state_changing(std::string_view method) {
  return method == "POST" || method == "PUT" || method == "PATCH" || method == "DELETE";
}

// The value of our session cookie in any Cookie header.
std::string_view session_cookie(const HttpRequest& req) {
  std::string_view values[8];
  std::size_t n = std::min<std::size_t>(req.header_values("Cookie", values, 8), 8);
  const std::string_view name = kSessionCookie;
  for (std::size_t i = 0; i < n; ++i) {
    std::string_view rest = values[i];
    while (!rest.empty()) {
      std::size_t semi = rest.find(';');
      std::string_view pair = rest.substr(0, semi);
      rest = semi == std::string_view::npos ? std::string_view{} : rest.substr(semi + 1);
      while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
      if (pair.size() > name.size() && pair.substr(0, name.size()) == name && pair[name.size()] == '=')
        return pair.substr(name.size() + 1);
    }
  }
  return {};
}

std::string source_name(host::FeatureSource s) {
  return s == host::FeatureSource::tier ? "tier" : s == host::FeatureSource::addon ? "addon" : "";
}

// Headers a plugin may not set through ApiRequest::add_response_header: the ones the host
// writes itself (framing, cookies, authentication challenges, its security header set).
bool host_owned_header(std::string_view name) noexcept {
  static constexpr std::string_view kOwned[] = {
      "content-type", "content-length", "transfer-encoding", "connection", "set-cookie",
      "www-authenticate", "retry-after", "strict-transport-security", "content-security-policy",
      "x-content-type-options", "x-frame-options", "referrer-policy", "cache-control",
      "content-encoding", "vary", "date", "server", "location"};
  for (auto owned : kOwned)
    if (iequals(name, owned)) return true;
  return false;
}

// RFC 9110 token characters.
bool header_token(std::string_view s) noexcept {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

// The hook's view of a request: straight over the server's buffers, no copies.
class ApiRequestView final : public host::ApiRequest {
 public:
  static constexpr std::size_t kMaxExtraHeaders = 8;

  ApiRequestView(const HttpRequest& r, std::string_view path, std::string_view query,
                 std::string_view scope, std::string_view client)
      : r_(r), path_(path), query_(query), scope_(scope), client_(client) {}
  std::string_view method() const noexcept override { return r_.method; }
  std::string_view path() const noexcept override { return path_; }
  std::string_view query() const noexcept override { return query_; }
  std::size_t headers(std::string_view name, std::string_view* out, std::size_t max) const noexcept override {
    return r_.header_values(name, out, max);
  }
  std::string_view required_scope() const noexcept override { return scope_; }
  std::string_view client_address() const noexcept override { return client_; }
  void add_response_header(std::string_view name, std::string_view value) const noexcept override {
    if (extra_.size() >= kMaxExtraHeaders || !header_token(name) || host_owned_header(name) ||
        value.size() > 1024 || value.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos)
      return;
    try {
      extra_.emplace_back(std::string(name), std::string(value));
    } catch (...) {
      // Out of memory: the header is dropped, the request still answered.
    }
  }
  // Moves the headers the hooks added onto the response.
  void append_to(HttpResponse& r) const {
    for (auto& h : extra_) r.headers.push_back(std::move(h));
    extra_.clear();
  }

 private:
  const HttpRequest& r_;
  std::string_view path_, query_, scope_, client_;
  mutable boost::container::small_vector<host::NameValue, 2> extra_;
};

struct Actor {
  std::string session_id;
  WebSession session;
  host::User user;
};

// 503 while the database is down: the caller is told to retry, and nobody is logged out.
HttpResponse database_unavailable() {
  HttpResponse r = json_error(503, "database_unavailable",
                              "The database is unavailable right now; try again in a few seconds.");
  r.headers.emplace_back("Retry-After", kRetryAfterSeconds);
  return r;
}

// The public API's own handlers: the same words as the API hook's 503.
HttpResponse api_unavailable() {
  HttpResponse r = json_error(503, "service_unavailable",
                              "The API could not serve the request right now; try again shortly.");
  r.headers.emplace_back("Retry-After", kRetryAfterSeconds);
  return r;
}

// The HTML form for pages: a plain message page (no navigation: building it needs the database).
HttpResponse database_unavailable_page() {
  render::PageChrome c;
  c.title = "Database unavailable";
  HttpResponse r = html_response(
      503, render::render_message_page(c, "Database unavailable",
                                       "The database is unavailable right now. You are still logged "
                                       "in: reload this page in a few seconds."));
  r.headers.emplace_back("Retry-After", kRetryAfterSeconds);
  return r;
}

enum class ApiEndpoint { patients, appointments_list, appointments_create, ping };
struct ApiRoute {
  const char* method;
  const char* path;
  const char* scope;  // nullptr: served without the API hook (benchmark aid only)
  ApiEndpoint endpoint;
};
constexpr ApiRoute kApiRoutes[] = {
    {"GET", "/api/v1/patients", "read", ApiEndpoint::patients},
    {"GET", "/api/v1/appointments", "read", ApiEndpoint::appointments_list},
    {"POST", "/api/v1/appointments", "appointments:write", ApiEndpoint::appointments_create},
    {"GET", "/api/v1/ping", "read", ApiEndpoint::ping},
    // The same endpoint through the same code with the hook step skipped, for clinic 1, so that
    // wrk against both measures exactly what the hook costs (BENCHMARKS.md).
    {"GET", "/demo/ping", nullptr, ApiEndpoint::ping},
};

}  // namespace

// ---------------------------------------------------------------------------------------------

struct Application::Impl {
  SharedServices& s;
  ManualClock* test_clock;
  std::vector<std::shared_ptr<LoadedPlugin>> plugins;
  std::vector<std::shared_ptr<host::ApiHook>> hooks;
  std::vector<bool> hook_takes_records;  // per hook: built for 2.1 or later (on_api_records)
  HeaderPolicy header_policy;
  TrustedProxies trusted_proxies;
  std::shared_ptr<ResponseRecorder> recorder;
  mutable std::shared_mutex clinic_mutex;
  std::unordered_map<host::ClinicId, std::string> clinic_names;  // names never change here
  SessionStore sessions;
  LoginService logins;  // after sessions and clinic_names: its pool threads use them

  Impl(SharedServices& services, ManualClock* clock, std::vector<std::shared_ptr<LoadedPlugin>> p,
       const ApplicationOptions& o)
      : s(services),
        test_clock(clock),
        plugins(std::move(p)),
        header_policy{o.https},
        trusted_proxies(o.trusted_proxies),
        recorder(o.recorder),
        sessions(services.clock, o.sessions),
        logins(services.directory, services.clock, sessions, o.login, o.https,
               [this](const host::User& u, const std::string& csrf) {
                 auto user = user_json(u);
                 // The clinic's name could not be read: the login answers 503 (login.cpp).
                 if (!user) throw std::runtime_error("the database is unavailable");
                 return json::serialize(json::object{{"csrf_token", csrf}, {"user", std::move(*user)}});
               }) {
    for (const auto& lp : plugins)
      if (lp->hook()) {
        hooks.push_back(lp->hook());
        hook_takes_records.push_back(lp->abi_minor() >= 1);
      }
  }

  static bool is_login_post(const HttpRequest& req) noexcept {
    const std::string_view t = req.target;
    return req.method == "POST" && t.rfind("/login", 0) == 0 && (t.size() == 6 || t[6] == '?');
  }

  // --- identity -------------------------------------------------------------------------------
  // Sessions live in memory; the user behind one is read from the database on each request.
  // not_found (the user is gone) ends the session; unavailable is not an answer about the user:
  // the caller answers 503 and the session stays.
  host::Lookup<Actor> actor(std::string_view session_id, const WebSession& ws) {
    auto user = s.directory.user(ws.user_id);
    if (user.is_unavailable()) return host::Lookup<Actor>::unavailable();
    if (!user.is_found()) {
      sessions.erase(session_id);
      return host::Lookup<Actor>::not_found();
    }
    return host::Lookup<Actor>::found(Actor{std::string(session_id), ws, std::move(user.value)});
  }

  // Clinic names never change in the devhost: found names are cached, nothing else is.
  host::Lookup<std::string> clinic_name(host::ClinicId id) {
    {
      std::shared_lock lock(clinic_mutex);
      auto it = clinic_names.find(id);
      if (it != clinic_names.end()) return host::Lookup<std::string>::found(it->second);
    }
    auto c = s.directory.clinic(id);
    if (c.is_unavailable()) return host::Lookup<std::string>::unavailable();
    if (!c.is_found()) return host::Lookup<std::string>::found("");
    std::unique_lock lock(clinic_mutex);
    clinic_names[id] = c.value.name;
    return host::Lookup<std::string>::found(c.value.name);
  }

  // nullopt: the database could not tell the clinic's name.
  std::optional<json::object> clinic_json(host::ClinicId id) {
    auto name = clinic_name(id);
    if (!name.is_found()) return std::nullopt;
    return json::object{{"id", id}, {"name", name.value}};
  }

  std::optional<json::object> user_json(const host::User& u) {
    auto clinic = clinic_json(u.clinic_id);
    if (!clinic) return std::nullopt;
    return json::object{{"id", u.id},     {"name", u.name},  {"email", u.email},
                        {"role", u.role}, {"clinic", std::move(*clinic)}};
  }

  // --- chrome for HTML pages --------------------------------------------------------------------
  // nullopt: the database could not tell the clinic's name.
  std::optional<render::PageChrome> chrome(const Actor& a, std::string title, std::string current_path,
                                           std::string action_base = "/") {
    auto clinic = clinic_name(a.user.clinic_id);
    if (!clinic.is_found()) return std::nullopt;
    render::PageChrome c;
    c.title = std::move(title);
    c.nav.push_back({"Account", "Billing & Subscription", "/settings/billing"});
    for (const auto& lp : plugins)
      for (const auto& page : lp->pages())
        if (s.permissions.allows(a.user.role, page.permission))
          c.nav.push_back({page.section, page.title, "/settings/" + page.path});
    c.user_name = a.user.name;
    c.clinic_name = std::move(clinic.value);
    c.csrf_token = a.session.csrf_token;
    c.current_path = std::move(current_path);
    c.action_base = std::move(action_base);
    c.unread_notifications = 0;
    if (s.notifications != nullptr) {
      // A count the database could not give is shown as none: the page itself still works.
      auto unread = s.notifications->unread(a.user.id);
      if (unread.is_found()) c.unread_notifications = static_cast<long long>(unread.value);
    }
    return c;
  }

  // --- dispatch -----------------------------------------------------------------------------
  HttpResponse handle(const HttpRequest& req) {
    HttpResponse r = dispatch(req);
    if (recorder) record(req, r);
    return r;
  }

  // --record-responses: the answer, under the operation it matched (method and route pattern),
  // whoever answered it (the host's session and CSRF checks, the plugin, the hook). An answer
  // that matched no operation (an unknown path or method) is not recorded.
  void record(const HttpRequest& req, const HttpResponse& r) {
    auto parsed = boost::urls::parse_origin_form(req.target);
    if (!parsed) return;
    std::vector<std::string> segs;
    for (auto seg : parsed->segments()) segs.push_back(seg);
    if (segs.size() >= 2 && segs[0] == "api") {
      const std::string_view path = parsed->encoded_path();  // as public_api() matches it
      for (const auto& route : kApiRoutes)
        if (route.scope != nullptr && route.method == req.method && path == route.path)
          return recorder->record(req.method, route.path, r);
      return;
    }
    if (segs.size() < 3 || segs[0] != "plugins") return;
    const std::vector<std::string> rest(segs.begin() + 2, segs.end());
    for (const auto& lp : plugins) {
      if (lp->id() != segs[1]) continue;
      for (const auto& route : lp->routes()) {
        std::vector<host::NameValue> params;
        if (route.method == req.method && match_pattern(route.pattern, rest, params))
          return recorder->record(req.method, "/plugins/" + segs[1] + "/" + route.pattern, r);
      }
    }
  }

  HttpResponse dispatch(const HttpRequest& req) {
    auto parsed = boost::urls::parse_origin_form(req.target);
    if (!parsed) return json_error(400, "invalid_target", "The request target is not a valid path.");
    const boost::urls::url_view& url = *parsed;
    std::vector<std::string> segs;
    for (auto seg : url.segments()) segs.push_back(seg);
    std::string path = url.path();

    if ((!segs.empty() && segs[0] == "api") || path == "/demo/ping") return public_api(req, url);
    if (!segs.empty() && segs[0] == "__test") return test_clock_route(req, path);
    if (!segs.empty() && segs[0] == "assets") return static_asset(req, url, segs);
    if (path == "/metrics") return metrics_exposition(req);

    if (path == "/login") {
      if (req.method == "GET") {
        std::string next = "/settings";
        if (auto it = url.params().find("next"); it != url.params().end()) next = (*it).value;
        return html_response(200, render::render_login_page(next));
      }
      // POST /login arrives through Application::handle(request, done) and the login pool.
      if (req.method == "POST") return json_error(500, "internal_error", "Logins are answered asynchronously.");
      return json_error(405, "method_not_allowed", "Use GET or POST on /login.");
    }
    if (path == "/" && req.method == "GET") return redirect("/settings");
    if (auto r = public_plugin_route(req, url, segs)) return std::move(*r);

    // Everything below needs a session; state-changing requests also need the CSRF token.
    bool is_html_page = !segs.empty() && segs[0] == "settings" && req.method == "GET";
    auto not_logged_in = [&] {
      if (is_html_page) return redirect("/login?next=" + std::string(url.encoded_path()));
      if (!known_path(segs, path)) return not_found();
      return json_error(401, "not_authenticated", "Log in first (POST /login).");
    };
    std::string_view session_id = session_cookie(req);
    auto ws = session_id.empty() ? std::nullopt : sessions.find(session_id);
    if (!ws) return not_logged_in();
    if (state_changing(req.method) && !SessionStore::csrf_matches(*ws, req.header("X-CSRF-Token")))
      return json_error(403, "csrf_token_invalid",
                        "The X-CSRF-Token header is missing or does not match the session.");

    // Logging out needs no database.
    if (path == "/logout") {
      if (req.method != "POST") return json_error(405, "method_not_allowed", "Use POST /logout.");
      sessions.erase(session_id);
      HttpResponse r = json_response(200, json::object{{"ok", true}});
      r.headers.emplace_back("Set-Cookie", logins.clearing_cookie());
      return r;
    }
    auto who = actor(session_id, *ws);
    if (who.is_unavailable()) return is_html_page ? database_unavailable_page() : database_unavailable();
    if (!who.is_found()) return not_logged_in();
    const Actor* a = &who.value;

    if (path == "/session" && req.method == "GET") {
      auto user = user_json(a->user);
      if (!user) return database_unavailable();
      return json_response(200, json::object{{"user", std::move(*user)},
                                             {"csrf_token", a->session.csrf_token}});
    }
    if (is_html_page) return settings_page(*a, segs, path, url);
    if (path == "/billing/features") {
      if (req.method != "GET") return json_error(405, "method_not_allowed", "Use GET.");
      auto features = features_json(a->user.clinic_id);
      if (!features) return database_unavailable();
      return json_response(200, std::move(*features));
    }
    if (segs.size() == 3 && segs[0] == "billing" && segs[1] == "addons")
      return addon_change(req, *a, segs[2]);
    if (path == "/notifications" || path == "/notifications/read") return notifications_route(req, *a, path);
    if (segs.size() >= 2 && segs[0] == "plugins") return plugin_route(req, *a, url, segs);
    return not_found();
  }

  // GET /notifications: the viewer's notifications (newest 50) and the unread count.
  // POST /notifications/read: marks them read; {"id": N} marks one.
  HttpResponse notifications_route(const HttpRequest& req, const Actor& a, const std::string& path) {
    if (s.notifications == nullptr) return not_found();
    if (path == "/notifications") {
      if (req.method != "GET") return json_error(405, "method_not_allowed", "Use GET.");
      auto items = s.notifications->list(a.user.id);
      auto unread = s.notifications->unread(a.user.id);
      if (!items.is_found() || !unread.is_found()) return database_unavailable();
      json::array arr;
      for (const auto& n : items.value)
        arr.push_back(json::object{{"id", n.id}, {"plugin", n.plugin_id}, {"severity", n.severity},
                                   {"subject", n.subject}, {"body", n.body}, {"link", n.link},
                                   {"created_at", format_rfc3339(n.created_at)}, {"read", n.read}});
      return json_response(200, json::object{{"unread", unread.value}, {"notifications", std::move(arr)}});
    }
    if (req.method != "POST") return json_error(405, "method_not_allowed", "Use POST.");
    std::optional<std::int64_t> one;
    if (req.body.find_first_not_of(" \t\r\n") != std::string_view::npos) {
      json::error_code ec;
      json::value body = json::parse(req.body, ec);
      const json::object* o = ec ? nullptr : body.if_object();
      if (o == nullptr) return json_error(400, "invalid_json", "Send a JSON object, e.g. {\"id\": 3}, or nothing.");
      if (const json::value* id = o->if_contains("id")) {
        if (!id->is_int64() || id->get_int64() <= 0)
          return json_error(400, "invalid_notification_id", "\"id\" must be a notification's id.");
        one = id->get_int64();
      }
    }
    if (!s.notifications->mark_read(a.user.id, one)) return database_unavailable();
    auto unread = s.notifications->unread(a.user.id);
    if (!unread.is_found()) return database_unavailable();
    return json_response(200, json::object{{"unread", unread.value}});
  }

  bool known_path(const std::vector<std::string>& segs, const std::string& path) const {
    if (path == "/logout" || path == "/session" || path == "/billing/features") return true;
    if (path == "/notifications" || path == "/notifications/read") return true;
    if (segs.size() == 3 && segs[0] == "billing" && segs[1] == "addons") return true;
    if (segs.size() >= 2 && segs[0] == "plugins") return true;  // matched after authentication
    return false;
  }

  static HttpResponse not_found() { return json_error(404, "not_found", "No such route."); }

  // GET /metrics: the Prometheus text format, without login, on the main listener (README:
  // "Metrics"). It holds counts and durations only: no key, preview, clinic or person.
  HttpResponse metrics_exposition(const HttpRequest& req) const {
    if (s.metrics == nullptr) return not_found();
    if (req.method != "GET") return json_error(405, "method_not_allowed", "Use GET /metrics.");
    return HttpResponse{200, std::string(kPrometheusTextType), s.metrics->exposition(),
                        {{"Cache-Control", "no-store"}}};
  }

  // --- page assets ----------------------------------------------------------------------------
  // /assets/<name>: the stylesheet and scripts pages load (render/assets.hpp). Pages ask for
  // ?v=<content hash>, which may be cached for good; any other URL is revalidated by ETag.
  static HttpResponse static_asset(const HttpRequest& req, const boost::urls::url_view& url,
                                   const std::vector<std::string>& segs) {
    if (req.method != "GET") return json_error(405, "method_not_allowed", "Use GET.");
    const render::Asset* a = segs.size() == 2 ? render::find_asset(segs[1]) : nullptr;
    if (a == nullptr) return not_found();
    const std::string etag = "\"" + std::string(a->version) + "\"";
    const auto v = url.params().find("v");
    const bool versioned = v != url.params().end() && (*v).value == a->version;
    HttpResponse r{200, std::string(a->content_type), {}, {}};
    r.headers.emplace_back("ETag", etag);
    r.headers.emplace_back("Cache-Control", versioned ? "public, max-age=31536000, immutable" : "no-cache");
    if (req.header("If-None-Match") == etag) {
      r.status = 304;
      return r;
    }
    r.body = std::string(a->body);
    return r;
  }

  // --- billing ------------------------------------------------------------------------------
  // The devhost's price list for addons, shown before a purchase. A real host reads its billing
  // system; an addon without a price here is sold "at your plan's addon price".
  static std::string addon_price(const std::string& addon) {
    if (addon == "api_access") return "$49 per month";
    return {};
  }

  // nullopt: the database could not tell (never shown as "disabled").
  std::optional<json::object> features_json(host::ClinicId clinic) {
    json::array arr;
    for (const auto& spec : s.features.all()) {
      auto state = s.subscriptions.feature(clinic, spec.id);
      if (state.is_unavailable()) return std::nullopt;
      host::FeatureState st = state.value;
      json::value source = nullptr;
      if (st.enabled) source = json::string(source_name(st.source));
      arr.push_back(json::object{{"id", spec.id}, {"label", spec.label}, {"enabled", st.enabled},
                                 {"source", source}});
    }
    return json::object{{"features", arr}};
  }

  HttpResponse addon_change(const HttpRequest& req, const Actor& a, const std::string& addon) {
    if (req.method != "POST" && req.method != "DELETE")
      return json_error(405, "method_not_allowed", "POST buys the addon, DELETE cancels it.");
    if (!s.permissions.allows(a.user.role, kBillingPermission))
      return json_error(403, "forbidden", "Only a clinic admin can change the subscription.");
    bool known = false;
    for (const auto& spec : s.features.all())
      if (!spec.addon.empty() && spec.addon == addon) known = true;
    if (!known) return json_error(404, "addon_not_found", "No feature is unlocked by that addon.");
    if (!s.subscriptions.set_addon(a.user.clinic_id, addon, req.method == "POST"))
      return database_unavailable();
    // This process's plugins hear of it now; every process's (this one's too) also hears of it
    // from the change listener, within milliseconds on PostgreSQL.
    subscription_changed(a.user.clinic_id);
    auto features = features_json(a.user.clinic_id);
    if (!features) return database_unavailable();
    return json_response(200, std::move(*features));
  }

  void subscription_changed(host::ClinicId clinic) noexcept {
    for (const auto& lp : plugins) lp->plugin()->on_subscription_changed(clinic);
  }

  // --- settings pages -------------------------------------------------------------------------
  HttpResponse settings_page(const Actor& a, const std::vector<std::string>& segs,
                             const std::string& path, const boost::urls::url_view& url) {
    if (segs.size() == 1 || (segs.size() == 2 && segs[1].empty())) {
      auto c = chrome(a, "Settings", "/settings");
      if (!c) return database_unavailable_page();
      return html_response(200, render::render_settings_index(*c));
    }
    if (path == "/settings/notifications" && s.notifications != nullptr) {
      auto items = s.notifications->list(a.user.id);
      if (items.is_unavailable()) return database_unavailable_page();
      auto c = chrome(a, "Notifications", path);
      if (!c) return database_unavailable_page();
      std::vector<render::NotificationItem> shown;
      for (const auto& n : items.value)
        shown.push_back({n.id, n.severity, n.subject, n.body, n.link, format_rfc3339(n.created_at), n.read});
      const auto unread = static_cast<std::size_t>(std::max(0LL, c->unread_notifications));
      return html_response(200, render::render_settings_page(render::notifications_view_model(shown, unread), *c));
    }
    if (path == "/settings/billing") {
      auto c = chrome(a, "Billing & Subscription", path);
      if (!c) return database_unavailable_page();
      std::vector<render::BillingFeature> rows;
      for (const auto& spec : s.features.all()) {
        auto state = s.subscriptions.feature(a.user.clinic_id, spec.id);
        if (state.is_unavailable()) return database_unavailable_page();
        host::FeatureState st = state.value;
        rows.push_back({spec.id, spec.label, st.enabled, source_name(st.source), spec.addon, addon_price(spec.addon)});
      }
      auto tier = s.subscriptions.tier(a.user.clinic_id);
      if (tier.is_unavailable()) return database_unavailable_page();
      auto vm = render::billing_view_model(c->clinic_name, tier.value, rows,
                                           s.permissions.allows(a.user.role, kBillingPermission));
      return html_response(200, render::render_settings_page(vm, *c));
    }
    std::string sub = path.substr(std::string("/settings/").size());
    for (const auto& lp : plugins) {
      for (const auto& page : lp->pages()) {
        if (page.path != sub) continue;
        auto c = chrome(a, page.title, path, "/plugins/" + lp->id() + "/");
        if (!c) return database_unavailable_page();
        if (!s.permissions.allows(a.user.role, page.permission))
          return html_response(403, render::render_message_page(
                                        *c, "Forbidden", "You don't have permission to open this page."));
        host::RouteRequest rr;
        rr.method = "GET";
        rr.user = a.user;
        rr.csrf_token = a.session.csrf_token;
        rr.path = sub;
        for (auto p : url.params()) rr.query.emplace_back(p.key, p.value);  // search, filter, page
        std::string vm = page.view_model(rr);
        std::string why;
        std::string html = render::render_settings_page(vm, *c, &why);
        if (!why.empty()) {
          StderrLog("devhost").write(host::LogLevel::warning,
                                     "plugin " + lp->id() + " page " + page.id + ": " + why);
        }
        return html_response(200, std::move(html));
      }
    }
    auto c = chrome(a, "Not found", path);
    if (!c) return database_unavailable_page();
    return html_response(404, render::render_message_page(*c, "Not found",
                                                          "There is no settings page here."));
  }

  // --- plugin routes --------------------------------------------------------------------------
  HttpResponse plugin_route(const HttpRequest& req, const Actor& a, const boost::urls::url_view& url,
                            const std::vector<std::string>& segs) {
    const LoadedPlugin* plugin = nullptr;
    for (const auto& lp : plugins)
      if (lp->id() == segs[1]) plugin = lp.get();
    if (plugin == nullptr) return not_found();
    std::vector<std::string> rest(segs.begin() + 2, segs.end());
    bool path_matched = false;
    for (const auto& route : plugin->routes()) {
      std::vector<host::NameValue> params;
      if (!match_pattern(route.pattern, rest, params)) continue;
      path_matched = true;
      if (route.method != req.method) continue;
      if (!s.permissions.allows(a.user.role, route.permission))
        return json_error(403, "forbidden", "Your role does not allow this.");
      host::RouteRequest rr;
      rr.method = std::string(req.method);
      for (std::size_t i = 0; i < rest.size(); ++i) rr.path += (i ? "/" : "") + rest[i];
      rr.params = std::move(params);
      rr.params.emplace_back(host::kClientAddressParam, client_address(req));
      for (auto p : url.params()) rr.query.emplace_back(p.key, p.value);
      rr.body = std::string(req.body);
      rr.user = a.user;
      rr.csrf_token = a.session.csrf_token;
      host::Response out = route.handler(rr);
      HttpResponse r{out.status, out.content_type, std::move(out.body), std::move(out.headers)};
      if (r.status < 100 || r.status > 599) return json_error(500, "internal_error", "Bad status from plugin.");
      return r;
    }
    if (path_matched) return json_error(405, "method_not_allowed", "This route does not accept that method.");
    return not_found();
  }

  // A route registered with permission "public" (host::kPublicPermission): served to anyone,
  // without a session, role or CSRF check. nullopt when no public route matches this method and
  // path (the request then goes through the session checks like any other).
  std::optional<HttpResponse> public_plugin_route(const HttpRequest& req, const boost::urls::url_view& url,
                                                  const std::vector<std::string>& segs) {
    if (segs.size() < 3 || segs[0] != "plugins") return std::nullopt;
    const std::vector<std::string> rest(segs.begin() + 2, segs.end());
    for (const auto& lp : plugins) {
      if (lp->id() != segs[1]) continue;
      for (const auto& route : lp->routes()) {
        if (route.permission != host::kPublicPermission || route.method != req.method) continue;
        std::vector<host::NameValue> params;
        if (!match_pattern(route.pattern, rest, params)) continue;
        host::RouteRequest rr;
        rr.method = std::string(req.method);
        for (std::size_t i = 0; i < rest.size(); ++i) rr.path += (i ? "/" : "") + rest[i];
        rr.params = std::move(params);
        rr.params.emplace_back(host::kClientAddressParam, client_address(req));
        for (auto p : url.params()) rr.query.emplace_back(p.key, p.value);
        rr.body = std::string(req.body);
        host::Response out = route.handler(rr);  // rr.user stays empty: nobody is logged in
        HttpResponse r{out.status, out.content_type, std::move(out.body), std::move(out.headers)};
        if (r.status < 100 || r.status > 599) return json_error(500, "internal_error", "Bad status from plugin.");
        return r;
      }
    }
    return std::nullopt;
  }

  // The client's address: the peer, or what trusted proxies reported (app/client_address.hpp).
  std::string client_address(const HttpRequest& req) const {
    if (trusted_proxies.empty()) return std::string(req.peer_address);
    std::vector<std::string_view> forwarded(std::min<std::size_t>(req.header_values("X-Forwarded-For", nullptr, 0), 16));
    req.header_values("X-Forwarded-For", forwarded.data(), forwarded.size());
    return trusted_proxies.client_of(req.peer_address, forwarded);
  }

  static bool match_pattern(const std::string& pattern, const std::vector<std::string>& segs,
                            std::vector<host::NameValue>& params) {
    std::size_t i = 0, pos = 0;
    while (pos <= pattern.size()) {
      std::size_t end = pattern.find('/', pos);
      if (end == std::string::npos) end = pattern.size();
      std::string_view part(pattern.data() + pos, end - pos);
      if (i >= segs.size()) return false;
      if (part.size() >= 2 && part.front() == '{' && part.back() == '}') {
        if (segs[i].empty()) return false;
        params.emplace_back(std::string(part.substr(1, part.size() - 2)), segs[i]);
      } else if (part != segs[i]) {
        return false;
      }
      ++i;
      pos = end + 1;
    }
    return i == segs.size();
  }

  // --- test clock ---------------------------------------------------------------------------
  HttpResponse test_clock_route(const HttpRequest& req, const std::string& path) {
    if (test_clock == nullptr || path != "/__test/clock") return not_found();
    if (req.method == "POST") {
      json::error_code ec;
      json::value body = json::parse(req.body, ec);
      if (ec) return json_error(400, "invalid_json", "The body is not valid JSON.");
      const json::object* o = body.if_object();
      if (o && o->if_contains("advance_seconds") && (*o).at("advance_seconds").is_number()) {
        double secs = (*o).at("advance_seconds").to_number<double>();
        // Ten years either way is plenty for a test, and keeps the nanoseconds in range.
        if (!(secs >= -3.2e8 && secs <= 3.2e8))
          return json_error(400, "invalid_request", "\"advance_seconds\" must be within ten years.");
        test_clock->advance(std::chrono::nanoseconds(static_cast<std::int64_t>(secs * 1e9)));
      } else if (o && o->if_contains("set") && (*o).at("set").is_string()) {
        auto t = parse_rfc3339((*o).at("set").get_string());
        if (!t) return json_error(400, "invalid_time", "\"set\" must be an RFC 3339 time.");
        test_clock->set(*t);
      } else {
        return json_error(400, "invalid_request",
                          "Send {\"advance_seconds\": N} or {\"set\": \"RFC 3339 time\"}.");
      }
    } else if (req.method != "GET") {
      return json_error(405, "method_not_allowed", "Use GET or POST.");
    }
    return json_response(200, json::object{{"now", format_rfc3339(test_clock->now())}});
  }

  // --- public API ---------------------------------------------------------------------------
  HttpResponse public_api(const HttpRequest& req, const boost::urls::url_view& url) {
    std::string_view path = url.encoded_path();
    const ApiRoute* route = nullptr;
    bool path_known = false;
    for (const auto& r : kApiRoutes) {
      if (path != r.path) continue;
      path_known = true;
      if (req.method == r.method) route = &r;
    }
    if (!path_known) return json_error(404, "not_found", "No such API route.");
    if (route == nullptr) return json_error(405, "method_not_allowed", "This API route does not accept that method.");
    Touched unreported;  // the benchmark aid reports to nobody
    if (route->scope == nullptr) return serve_api(*route, req, 1, unreported);
    if (hooks.empty())
      return json_error(503, "api_unavailable", "The public API needs the API access plugin, which is not loaded.");

    const std::string client = client_address(req);
    ApiRequestView view(req, path, url.encoded_query(), route->scope, client);
    // Inline storage: no heap allocation per request for the usual one or two hooks.
    boost::container::small_vector<host::ApiDecision, 2> decisions(hooks.size());
    HttpResponse response;
    bool allowed = true;
    host::ClinicId clinic = 0;
    std::size_t called = 0;
    for (std::size_t i = 0; i < hooks.size(); ++i) {
      hooks[i]->on_api_request(view, decisions[i]);
      called = i + 1;
      const host::ApiDecision& d = decisions[i];
      if (!d.allowed || d.clinic_id <= 0 || (clinic != 0 && d.clinic_id != clinic)) {
        allowed = false;
        if (d.allowed) {
          response = json_error(500, "internal_error", "API hooks disagree on the clinic.");
        } else {
          int status = d.status >= 400 && d.status <= 599 ? d.status : 403;
          response = HttpResponse{status, "application/json",
                                  d.body.empty() ? refusal_without_body(status).body : d.body,
                                  {}};
          if (!d.www_authenticate.empty()) response.headers.emplace_back("WWW-Authenticate", d.www_authenticate);
          if (d.retry_after > 0) response.headers.emplace_back("Retry-After", std::to_string(d.retry_after));
        }
        break;
      }
      clinic = d.clinic_id;
    }
    if (allowed) {
      Touched touched;
      try {
        response = serve_api(*route, req, clinic, touched);
      } catch (const soci::soci_error&) {
        response = api_unavailable();  // the database failed mid-request: "try again", not a 500
      } catch (const std::exception&) {
        response = json_error(500, "internal_error", "The request failed on the server.");
      }
      // Disclosure accounting: what the handler read or changed, to every hook that takes it.
      if (!touched.empty())
        for (std::size_t i = 0; i < called; ++i)
          if (hook_takes_records[i]) hooks[i]->on_api_records(decisions[i].token, touched.data(), touched.size());
    }
    view.append_to(response);  // e.g. RateLimit fields, on allowed and refused answers alike
    for (std::size_t i = 0; i < called; ++i) hooks[i]->on_api_response(decisions[i].token, response.status);
    return response;
  }

  // The patient records a handler read (returned) or wrote, filled only once the database work
  // succeeded: a failed write is not reported.
  using Touched = boost::container::small_vector<host::RecordTouch, 16>;
  static void touch(Touched& t, long long patient, host::RecordAccess how) {
    for (const auto& r : t)
      if (r.id == patient && r.access == how) return;
    t.push_back(host::RecordTouch{"patient", patient, how});
  }

  HttpResponse serve_api(const ApiRoute& route, const HttpRequest& req, host::ClinicId clinic, Touched& touched) {
    auto clinic_object = clinic_json(clinic);
    if (!clinic_object) return api_unavailable();
    json::object out{{"clinic", std::move(*clinic_object)}};
    if (route.endpoint == ApiEndpoint::ping) {
      out["pong"] = true;
      return json_response(200, std::move(out));
    }
    host::SessionLease db(s.database, 2s);
    if (!db) return api_unavailable();
    long long cid = clinic;
    if (route.endpoint == ApiEndpoint::patients) {
      json::array arr;
      long long id = 0;
      std::string first, last, birth;
      soci::statement st = (db->prepare << "SELECT id, first_name, last_name, birth_date FROM host_patients"
                                           " WHERE clinic_id = :c ORDER BY id",
                            soci::into(id), soci::into(first), soci::into(last), soci::into(birth),
                            soci::use(cid));
      st.execute();
      Touched read;
      while (st.fetch()) {
        arr.push_back(json::object{{"id", id}, {"first_name", first}, {"last_name", last}, {"birth_date", birth}});
        read.push_back(host::RecordTouch{"patient", id, host::RecordAccess::read});  // ids are unique here
      }
      out["patients"] = std::move(arr);
      touched = std::move(read);
      return json_response(200, std::move(out));
    }
    if (route.endpoint == ApiEndpoint::appointments_list) {
      json::array arr;
      long long id = 0, patient = 0;
      int minutes = 0;
      std::string starts, reason;
      soci::statement st = (db->prepare << "SELECT id, patient_id, starts_at, duration_minutes, reason"
                                           " FROM host_appointments WHERE clinic_id = :c ORDER BY starts_at, id",
                            soci::into(id), soci::into(patient), soci::into(starts), soci::into(minutes),
                            soci::into(reason), soci::use(cid));
      st.execute();
      Touched read;
      while (st.fetch()) {
        arr.push_back(json::object{{"id", id}, {"patient_id", patient}, {"starts_at", starts},
                                   {"duration_minutes", minutes}, {"reason", reason}});
        touch(read, patient, host::RecordAccess::read);  // an appointment is part of the patient's record
      }
      out["appointments"] = std::move(arr);
      touched = std::move(read);
      return json_response(200, std::move(out));
    }
    // POST /api/v1/appointments
    json::error_code ec;
    json::value body = json::parse(req.body, ec);
    if (ec) return json_error(400, "invalid_json", "The body is not valid JSON.");
    const json::object* o = body.if_object();
    if (!o) return json_error(400, "invalid_appointment", "Send a JSON object.");
    const json::value* pid = o->if_contains("patient_id");
    const json::value* starts = o->if_contains("starts_at");
    const json::value* dur = o->if_contains("duration_minutes");
    const json::value* why = o->if_contains("reason");
    if (!pid || !pid->is_int64() || pid->get_int64() <= 0)
      return json_error(400, "invalid_appointment", "\"patient_id\" must be a positive integer.");
    if (!starts || !starts->is_string())
      return json_error(400, "invalid_appointment", "\"starts_at\" must be an RFC 3339 time.");
    const auto starts_time = parse_rfc3339(starts->get_string());
    if (!starts_time)
      return json_error(400, "invalid_time",
                        "\"starts_at\" must be an RFC 3339 time like \"2026-12-01T09:00:00Z\".");
    long long minutes = 30;
    if (dur) {
      if (!dur->is_int64() || dur->get_int64() < 5 || dur->get_int64() > 480)
        return json_error(400, "invalid_appointment", "\"duration_minutes\" must be 5 to 480.");
      minutes = dur->get_int64();
    }
    std::string reason;
    if (why) {
      if (!why->is_string() || why->get_string().size() > 200)
        return json_error(400, "invalid_appointment", "\"reason\" must be a string of at most 200 characters.");
      reason = std::string(why->get_string());
    }
    long long patient = pid->get_int64();
    long long owner = 0;
    soci::indicator ind = soci::i_null;
    *db << "SELECT clinic_id FROM host_patients WHERE id = :p", soci::into(owner, ind), soci::use(patient);
    if (!db->got_data() || ind != soci::i_ok || owner != cid)
      return json_error(404, "patient_not_found", "No such patient in this clinic.");
    // Stored in one form (UTC, whole seconds) so that ORDER BY starts_at orders by time.
    std::string starts_at = format_rfc3339(*starts_time);
    int mins = static_cast<int>(minutes);
    long long id = 0;
    *db << "INSERT INTO host_appointments (clinic_id, patient_id, starts_at, duration_minutes, reason)"
           " VALUES (:c, :p, :s, :m, :r) RETURNING id",
        soci::use(cid), soci::use(patient), soci::use(starts_at), soci::use(mins), soci::use(reason),
        soci::into(id);
    touch(touched, patient, host::RecordAccess::write);
    out["appointment"] = json::object{{"id", id}, {"patient_id", patient}, {"starts_at", starts_at},
                                      {"duration_minutes", mins}, {"reason", reason}};
    return json_response(201, out);
  }
};

Application::Application(SharedServices& services, ManualClock* test_clock,
                         std::vector<std::shared_ptr<LoadedPlugin>> plugins, ApplicationOptions options)
    : impl_(std::make_unique<Impl>(services, test_clock, std::move(plugins), options)) {}

const HeaderPolicy& Application::header_policy() const noexcept { return impl_->header_policy; }

void Application::handle(const HttpRequest& request, const Done& done) noexcept {
  if (Impl::is_login_post(request)) {
    try {
      return impl_->logins.submit(request, done);
    } catch (...) {
      // Nothing was answered yet (submit answers last): fall through to the 500 below.
    }
  }
  done(handle(request));
}

Application::~Application() = default;

HttpResponse Application::handle(const HttpRequest& request) noexcept {
  try {
    HttpResponse response = impl_->handle(request);
    maybe_gzip(request, response);  // pages and assets only (app/compression.hpp)
    return response;
  } catch (const soci::soci_error& e) {
    // A host query failed (every path above answers its own 503 first; this is the net).
    try {
      StderrLog("devhost").write(host::LogLevel::warning, std::string("database error: ") + e.what());
      return database_unavailable();
    } catch (...) {
    }
  } catch (const std::exception& e) {
    try {
      StderrLog("devhost").write(host::LogLevel::error, std::string("request failed: ") + e.what());
      return json_error(500, "internal_error", "The request failed on the server.");
    } catch (...) {
    }
  } catch (...) {
  }
  return HttpResponse{500, "application/json",
                      R"({"error":{"code":"internal_error","message":"The request failed on the server."}})", {}};
}

void Application::subscription_changed(host::ClinicId clinic) noexcept {
  impl_->subscription_changed(clinic);
}

void Application::stop_background_work() noexcept { impl_->logins.stop(); }

void Application::stop_plugins() noexcept {
  impl_->hooks.clear();
  impl_->hook_takes_records.clear();
  for (auto& lp : impl_->plugins) lp->stop();
  impl_->plugins.clear();
}

}  // namespace mdp::devhost
