#include "routes/leak_reports.hpp"

#include <exception>
#include <string>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <soci/soci.h>

#include "plugin_context.hpp"
#include "util/db.hpp"
#include "util/json_error.hpp"

namespace mdp::api_access {

namespace json = boost::json;

namespace {

constexpr std::size_t kMaxTokens = 100;
constexpr std::size_t kMaxUrl = 2048, kMaxSource = 100;

struct Report {
  std::string token, url, source;
};

// An optional string field of at most `max` bytes, without NUL (PostgreSQL text cannot hold it).
bool optional_text(const json::object& o, const char* name, std::size_t max, std::string& out) {
  const json::value* v = o.if_contains(name);
  if (v == nullptr || v->is_null()) return true;
  if (!v->is_string() || v->as_string().size() > max) return false;
  out = std::string(v->as_string());
  return out.find('\0') == std::string::npos;
}

host::Response handle(PluginContext& ctx, const host::RouteRequest& req) {
  const std::string* address = req.param(host::kClientAddressParam);
  const std::string client = address != nullptr ? *address : std::string();
  const Micros now = ctx.now();
  if (const int wait = ctx.leak_reports.retry_after(client, now); wait > 0) {
    host::Response r = error_response(429, "too_many_reports",
                                      "Too many leak reports from this address. Wait for the time in "
                                      "Retry-After, and send up to 100 tokens per report.");
    r.headers.emplace_back("Retry-After", std::to_string(wait));
    return r;
  }
  ctx.leak_reports.failed(client, now);  // every report counts against its address

  json::error_code ec;
  const json::value body = json::parse(req.body, ec);
  if (ec) return error_response(400, "invalid_json", "The body must be JSON: [{\"token\", \"url\", \"source\"}, ...].");
  if (!body.is_array() || body.as_array().empty())
    return error_response(400, "invalid_report", "The body must be a non-empty JSON array of {\"token\", \"url\", \"source\"}.");
  if (body.as_array().size() > kMaxTokens)
    return error_response(400, "too_many_tokens", "At most 100 tokens per report; send the rest in another one.");
  std::vector<Report> reports;
  for (const json::value& item : body.as_array()) {
    const json::object* o = item.if_object();
    const json::value* token = o != nullptr ? o->if_contains("token") : nullptr;
    if (token == nullptr || !token->is_string())
      return error_response(400, "invalid_report", "Every entry needs \"token\": the key as found.");
    Report r;
    r.token = std::string(token->as_string());
    if (!optional_text(*o, "url", kMaxUrl, r.url) || !optional_text(*o, "source", kMaxSource, r.source))
      return error_response(400, "invalid_report", "\"url\" (up to 2048 characters) and \"source\" (up to 100) must be strings.");
    reports.push_back(std::move(r));
  }

  json::array results;
  for (const Report& r : reports) {
    const char* status = "invalid";
    if (matches_grammar(r.token) && checksum_ok(r.token)) {
      const LeakOutcome out = ctx.keys.revoke_leaked(to_hex(digest_of(r.token)), r.url, r.source, ctx.now_seconds());
      if (out.status == LeakOutcome::Status::revoked) {
        status = "revoked";
        ctx.key_changed(*out.key);  // before answering: the next API request is refused
        ctx.host.log().write(host::LogLevel::warning,
                             "API key " + out.key->preview + " (id " + std::to_string(out.key->id) +
                                 ", clinic " + std::to_string(out.key->clinic_id) +
                                 ") revoked by a leak report from " + (client.empty() ? "?" : client));
      } else if (out.status == LeakOutcome::Status::not_active) {
        status = "not_active";
      }
    }
    results.push_back(json::object{{"status", status}});
  }
  return json_response(200, json::object{{"results", std::move(results)}});
}

}  // namespace

host::RouteSpec make_leak_report_route(std::shared_ptr<PluginContext> ctx) {
  auto handler = [ctx = std::move(ctx)](const host::RouteRequest& req) noexcept -> host::Response {
    try {
      try {
        return handle(*ctx, req);
      } catch (const DatabaseUnavailable&) {
      } catch (const soci::soci_error& e) {
        ctx->host.log().write(host::LogLevel::warning, std::string("leak report: database error: ") + e.what());
      }
      host::Response r = error_response(503, "database_unavailable",
                                        "The database is unavailable right now. Send the report again "
                                        "after the time in Retry-After.");
      r.headers.emplace_back("Retry-After", "2");
      return r;
    } catch (...) {
      host::Response r;
      r.status = 500;
      r.body = R"({"error":{"code":"internal_error","message":"Something went wrong."}})";
      return r;
    }
  };
  return {"POST", "leaked-keys", host::kPublicPermission,
          "Revoke leaked API keys (public: holding a key is the right to revoke it)", std::move(handler)};
}

}  // namespace mdp::api_access
