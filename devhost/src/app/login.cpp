#include "app/login.hpp"

#include <memory>
#include <stdexcept>

#include <botan/mem_ops.h>
#include <boost/json.hpp>

#include "app/application.hpp"
#include "services/host_schema.hpp"

namespace mdp::devhost {

namespace json = boost::json;

namespace {

constexpr std::size_t kMaxEmail = 254;      // RFC 5321's limit on a forward path
constexpr std::size_t kMaxPassword = 1024;  // Argon2's cost does not depend on it, but copies do
constexpr std::size_t kMaxBody = 4096;

// "application/json", any case, optionally followed by parameters ("; charset=utf-8").
bool is_json_media_type(std::string_view v) noexcept {
  const std::size_t semi = v.find(';');
  std::string_view type = v.substr(0, semi);
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.remove_suffix(1);
  while (!type.empty() && (type.front() == ' ' || type.front() == '\t')) type.remove_prefix(1);
  return iequals(type, "application/json");
}

HttpResponse with_retry_after(HttpResponse r, std::chrono::seconds s) {
  r.headers.emplace_back("Retry-After", std::to_string(s.count()));
  return r;
}

// Lower-cased ASCII: e-mails are compared and throttled in one spelling.
std::string fold_email(std::string_view e) {
  std::string out(e);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  return out;
}

// A password copy that is overwritten when it goes, whichever way it goes.
struct PasswordCopy {
  std::string text;
  explicit PasswordCopy(std::string_view t) : text(t) {}
  PasswordCopy(PasswordCopy&& o) noexcept : text(std::move(o.text)) {}
  PasswordCopy(const PasswordCopy&) = delete;
  ~PasswordCopy() { Botan::secure_scrub_memory(text.data(), text.size()); }
};

}  // namespace

LoginService::LoginService(const DbDirectory& directory, const host::Clock& clock,
                           SessionStore& sessions, LoginLimits limits, bool secure_cookie,
                           Welcome welcome)
    : directory_(directory),
      clock_(clock),
      sessions_(sessions),
      secure_cookie_(secure_cookie),
      welcome_(std::move(welcome)),
      dummy_hash_(hash_password("not-a-real-password")),
      throttle_(limits.throttle),
      pool_(limits.threads, limits.queue) {}

LoginService::~LoginService() = default;

std::string LoginService::session_cookie(std::string_view session_id) const {
  return std::string(kSessionCookie) + "=" + std::string(session_id) + "; HttpOnly; SameSite=Strict; Path=/" +
         (secure_cookie_ ? "; Secure" : "");
}

std::string LoginService::clearing_cookie() const {
  return std::string(kSessionCookie) + "=; Max-Age=0; Path=/; HttpOnly; SameSite=Strict" +
         (secure_cookie_ ? "; Secure" : "");
}

void LoginService::submit(const HttpRequest& req, Done done) {
  if (!is_json_media_type(req.header("Content-Type")))
    return done(json_error(415, "unsupported_media_type",
                           "Send the login as JSON (Content-Type: application/json)."));
  if (req.body.size() > kMaxBody)
    return done(json_error(400, "invalid_request", "The login body is too long."));
  json::error_code ec;
  json::value body = json::parse(req.body, ec);
  if (ec) return done(json_error(400, "invalid_json", "The body is not valid JSON."));
  json::object* o = body.if_object();
  const json::value* email = o ? o->if_contains("email") : nullptr;
  json::value* password = o ? o->if_contains("password") : nullptr;
  if (!email || !password || !email->is_string() || !password->is_string())
    return done(json_error(400, "invalid_request", "Send {\"email\": \"...\", \"password\": \"...\"}."));
  if (email->get_string().size() > kMaxEmail || password->get_string().size() > kMaxPassword)
    return done(json_error(400, "invalid_request", "The e-mail or the password is too long."));

  std::string mail = fold_email(email->get_string());
  std::string address(req.peer_address);
  if (auto wait = throttle_.begin(mail, address, clock_.now()))
    return done(with_retry_after(
        json_error(429, "too_many_failed_attempts",
                   "Too many failed logins for this account or from this address; try again later."),
        *wait));

  json::string& parsed = password->get_string();
  auto pw = std::make_shared<PasswordCopy>(parsed);
  Botan::secure_scrub_memory(parsed.data(), parsed.size());  // the parser's copy
  auto job = [this, mail, pw, address, done] { check(mail, pw->text, address, done); };
  if (!pool_.submit(std::move(job))) {
    throttle_.cancel(mail, address);
    return done(with_retry_after(
        json_error(503, "login_busy", "Too many logins are being checked right now; try again shortly."),
        std::chrono::seconds(1)));
  }
}

void LoginService::check(const std::string& email, const std::string& password,
                         const std::string& address, const Done& done) {
  HttpResponse out;
  try {
    auto found = directory_.user_for_login(email);
    if (found.is_unavailable()) throw std::runtime_error("the database is unavailable");
    // Unknown e-mails are checked against a dummy hash: the same Argon2 work either way.
    const bool ok =
        check_password(password, found.is_found() ? found.value.password_hash : dummy_hash_) &&
        found.is_found();
    if (!ok) {
      throttle_.failed(email, address, clock_.now());
      out = json_error(401, "invalid_credentials", "Wrong e-mail or password.");
    } else {
      std::string csrf;
      std::string id = sessions_.create(found.value.user.id, csrf);
      std::string body;
      try {
        body = welcome_(found.value.user, csrf);
      } catch (...) {
        sessions_.erase(id);  // no session without the answer that hands it out
        throw;
      }
      throttle_.succeeded(email, address);
      out = HttpResponse{200, "application/json", std::move(body), {}};
      out.headers.emplace_back("Set-Cookie", session_cookie(id));
    }
  } catch (const std::exception&) {
    throttle_.cancel(email, address);
    out = with_retry_after(json_error(503, "database_unavailable", "Logins cannot be checked right now; try again shortly."),
                           std::chrono::seconds(5));
  }
  done(std::move(out));
}

}  // namespace mdp::devhost
