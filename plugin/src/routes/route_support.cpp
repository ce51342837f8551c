#include "routes/route_support.hpp"

#include <charconv>
#include <exception>

#include <soci/soci.h>

#include "plugin_context.hpp"
#include "util/db.hpp"
#include "util/json_error.hpp"

namespace mdp::api_access {

host::Response database_unavailable() {
  host::Response r = error_response(503, "database_unavailable",
                                    "The database is unavailable right now. Try again in a moment.");
  r.headers.emplace_back("Retry-After", "2");
  return r;
}

host::RouteHandler guarded(std::shared_ptr<PluginContext> ctx, Handler fn) {
  return [ctx = std::move(ctx), fn](const host::RouteRequest& req) noexcept -> host::Response {
    try {
      try {
        return fn(*ctx, req);
      } catch (const HttpError& e) {
        return error_response(e.status, e.code, e.message);
      } catch (const DatabaseUnavailable&) {
        ctx->host.log().write(host::LogLevel::warning,
                              "admin route " + req.method + " " + req.path +
                                  ": database unavailable (no session, or the host could not tell)");
        return database_unavailable();
      } catch (const soci::soci_error& e) {
        // The failure model (services.hpp): a statement that fails means "could not tell" (most
        // often the connection died mid-request). Nothing was half-written: one transaction per
        // mutation.
        ctx->host.log().write(host::LogLevel::warning, "admin route " + req.method + " " +
                                                           req.path + ": database error: " + e.what());
        return database_unavailable();
      } catch (const std::exception& e) {
        ctx->host.log().write(host::LogLevel::error,
                              std::string("admin route ") + req.method + " " + req.path +
                                  " failed: " + e.what());
        return error_response(500, "internal_error", "Something went wrong. Try again.");
      }
    } catch (...) {
      host::Response r;
      r.status = 500;
      r.body = R"({"error":{"code":"internal_error","message":"Something went wrong.",)"
               R"("doc":"/plugins/api-access/errors#internal_error"}})";
      return r;
    }
  };
}

std::optional<std::int64_t> positive_id_param(const host::RouteRequest& req, const char* name) {
  const std::string* s = req.param(name);
  std::int64_t id = 0;
  if (s != nullptr && !s->empty() && s->size() <= 18) {
    const auto [p, ec] = std::from_chars(s->data(), s->data() + s->size(), id);
    if (ec == std::errc{} && p == s->data() + s->size() && id > 0) return id;
  }
  return std::nullopt;
}

std::int64_t key_id_param(const host::RouteRequest& req) {
  if (const auto id = positive_id_param(req, "id")) return *id;
  throw HttpError{404, "key_not_found", "No API key with this id in your clinic."};
}

}  // namespace mdp::api_access
