// The hook the host calls on every request to its public API (/api/...).
//
// Order, per request, on the server thread that handles it:
//   1. the host matches the route and learns the scope it requires (e.g. "read");
//   2. on_api_request(request, decision): the hook authenticates and decides;
//   3. if decision.allowed, the host runs the handler as decision.clinic_id and serves that
//      clinic's data only; otherwise it answers decision.status with decision.body (JSON) and,
//      when set, the WWW-Authenticate and Retry-After headers; in both cases with the headers
//      the hook added through ApiRequest::add_response_header (since 2.1);
//   3b. (since 2.1, only for hooks of plugins built for 2.1 or later, see abi.hpp) while the
//      handler runs: on_api_records(decision.token, ...) with the records it read or changed,
//      zero or more times, before on_api_response; only for allowed requests;
//   4. on_api_response(decision.token, status) with the status actually sent, in both cases,
//      exactly once per on_api_request, also when the handler failed (status 500).
// A request that matches no public route is answered 404 by the host without calling the hook; a
// known path with another method is answered 405, also without calling it.
// Both calls are on the hot path of every API request: they must not block on I/O in the common
// case, must not throw, and may run concurrently on any number of threads.
// When the hook cannot decide (its database is unreachable and it holds no fresh answer), it
// refuses with 503 `service_unavailable` and a retry_after: it never guesses "allowed".
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "mdp/host/services.hpp"

namespace mdp::host {

// The request as the hook sees it. Implemented by the host; valid only during the call.
class BOOST_SYMBOL_VISIBLE ApiRequest {
 public:
  virtual std::string_view method() const noexcept = 0;
  virtual std::string_view path() const noexcept = 0;   // without the query, e.g. "/api/v1/patients"
  virtual std::string_view query() const noexcept = 0;  // raw, without '?'; empty if none
  // Writes up to `max` values of header `name` (case-insensitive) into `out`, in the order they
  // arrived, and returns how many the request holds (which may exceed `max`).
  virtual std::size_t headers(std::string_view name, std::string_view* out,
                              std::size_t max) const noexcept = 0;
  virtual std::string_view required_scope() const noexcept = 0;  // e.g. "read"
  // The client's IP address as text ("203.0.113.7", "2001:db8::1"): the peer of the connection,
  // or the address a proxy the host trusts reported for it. Empty if the host cannot tell.
  // Since 2.0.
  virtual std::string_view client_address() const noexcept = 0;
  // Adds a header to this request's response, whatever the decision: the handler's response
  // when allowed, the refusal otherwise (e.g. the RateLimit fields a hook advertises with every
  // answer to a key). Call it during on_api_request only; the host copies `name` and `value`.
  // The host ignores a name that is not an HTTP token or that it writes itself (Content-Type,
  // Content-Length, Set-Cookie, WWW-Authenticate, Retry-After, Connection, Transfer-Encoding
  // and its security headers), a value with CR, LF or NUL, and anything past 8 per request.
  // `const` because the request is the hook's read-only view; the headers belong to the host.
  // A host that does not override it drops the headers (the default does nothing). Since 2.1: a
  // plugin built for 2.1 may call it, since hosts older than 2.1 refuse to load such a plugin.
  virtual void add_response_header(std::string_view name, std::string_view value) const noexcept {
    (void)name;
    (void)value;
  }

 protected:
  ~ApiRequest() = default;
};

// The hook's answer. The host default-constructs one per request and passes it in; the hook
// fills it. A refusal leaves clinic_id at 0.
struct ApiDecision {
  bool allowed = false;
  ClinicId clinic_id = 0;        // allowed: the clinic whose data the handler serves
  int status = 0;                // refused: 401, 403, 429...
  std::string body;              // refused: {"error":{"code","message"}}
  std::string www_authenticate;  // refused: WWW-Authenticate value, empty for none
  int retry_after = 0;           // refused: seconds for Retry-After (429, 503); 0 for none (2.0)
  // Opaque; handed back unchanged in the one on_api_response of this request and valid only
  // until that call returns (0: nothing to count). The host never interprets it.
  std::uint64_t token = 0;
};

// What a handler did with one record (since 2.1): for disclosure accounting (who saw which
// patient's data, through which key). `type` names the kind of record in the host's words
// ("patient"); `id` is the host's id of that record.
enum class RecordAccess : std::uint8_t { read, write };

struct RecordTouch {
  std::string_view type;  // e.g. "patient"; valid only during the call
  std::int64_t id = 0;
  RecordAccess access = RecordAccess::read;
};

// Registered with Registrar::set_api_hook; owned by the host (which keeps the plugin's library
// loaded while it holds it) until the plugin is unloaded, after on_stop.
class BOOST_SYMBOL_VISIBLE ApiHook {
 public:
  virtual ~ApiHook() = default;
  virtual void on_api_request(const ApiRequest& request, ApiDecision& decision) noexcept = 0;
  virtual void on_api_response(std::uint64_t token, int status) noexcept = 0;
  // Since 2.1. The records the handler of an allowed request read (returned to the client) or
  // changed, `count` of them at `records` (valid only during the call); a record may appear
  // twice (read and write). The host calls it on the request's thread between on_api_request
  // and on_api_response, as many times as it likes (e.g. once per page of results), and reports
  // only what the handler really did: a write that failed is not reported. Hot path: must not
  // block on I/O and must not throw. The host calls it only on hooks of plugins whose
  // mdp_plugin_abi() minor is >= 1; a 2.0 plugin's table has no such entry.
  virtual void on_api_records(std::uint64_t token, const RecordTouch* records,
                              std::size_t count) noexcept {
    (void)token, (void)records, (void)count;
  }
};

}  // namespace mdp::host
