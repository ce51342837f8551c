// POST /login, kept off the request threads: the request thread only checks the form of the
// request and the throttle; the password check (Argon2id) runs on the PasswordPool, which
// answers through the callback. Refusals, in the order they are checked:
//   415 unsupported_media_type   Content-Type is not application/json (a cross-site form cannot
//                                send that without a CORS preflight, which the devhost never grants)
//   400 invalid_json / invalid_request   (e-mail at most 254 bytes, password at most 1024)
//   429 too_many_failed_attempts + Retry-After   the account or the address is throttled
//                                (login_throttle.hpp); no password is checked
//   503 login_busy + Retry-After  the password-check queue is full
//   401 invalid_credentials      wrong e-mail or password: the same answer, and the same Argon2
//                                work, whether or not the e-mail exists
//   503 database_unavailable     the user could not be looked up
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "app/http_types.hpp"
#include "app/login_throttle.hpp"
#include "app/password_pool.hpp"
#include "app/sessions.hpp"
#include "services/host_services.hpp"

namespace mdp::devhost {

struct LoginLimits {
  int threads = 1;          // password checks at once (each ~19 MiB of memory)
  std::size_t queue = 32;   // checks waiting for a thread
  LoginThrottleLimits throttle;
};

class LoginService {
 public:
  using Done = std::function<void(HttpResponse)>;
  // The 200 body for a user who just logged in, given the new session's CSRF token.
  using Welcome = std::function<std::string(const host::User&, const std::string& csrf_token)>;

  LoginService(const DbDirectory& directory, const host::Clock& clock, SessionStore& sessions,
               LoginLimits limits, bool secure_cookie, Welcome welcome);
  ~LoginService();  // finishes queued checks (their callbacks run) and joins the pool

  // Answers through `done`, exactly once: at once for a refusal, from a pool thread otherwise.
  void submit(const HttpRequest& request, Done done);
  // Finishes queued checks (their callbacks run) and joins the pool; later submits answer 503.
  void stop() noexcept { pool_.stop(); }

  // Set-Cookie values: the session cookie (HttpOnly, SameSite=Strict, Secure under --https) and
  // the one that clears it.
  std::string session_cookie(std::string_view session_id) const;
  std::string clearing_cookie() const;

 private:
  void check(const std::string& email, const std::string& password, const std::string& address,
             const Done& done);

  const DbDirectory& directory_;
  const host::Clock& clock_;
  SessionStore& sessions_;
  bool secure_cookie_;
  Welcome welcome_;
  std::string dummy_hash_;  // checked for unknown e-mails so both paths cost one Argon2 run
  LoginThrottle throttle_;
  PasswordPool pool_;  // last: destroyed first, while everything its jobs use still exists
};

}  // namespace mdp::devhost
