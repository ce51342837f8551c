// The plugin's admin routes with any JSON body, path parameter and query, called as the host
// calls them after its own checks (an admin of clinic 1): the answer is a status below 500 (503
// aside: the database may say so); a JSON answer parses, and every error is JSON with the
// {"error":{...}} shape. Only successes may be another type (the error-code page, CSV exports).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include <boost/json.hpp>
#include <fuzzer/FuzzedDataProvider.h>

#include "plugin_harness.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto& h = mdp::fuzz::plugin_harness();
  FuzzedDataProvider in(data, size);
  auto& routes = h.registrar.routes;
  const auto& route = routes[in.ConsumeIntegralInRange<std::size_t>(0, routes.size() - 1)];

  mdp::host::RouteRequest req;
  req.method = route.method;
  req.user = in.ConsumeBool() ? mdp::api_access::test::admin_a() : mdp::api_access::test::admin_b();
  if (route.pattern.find("{id}") != std::string::npos)
    req.params.emplace_back("id", in.ConsumeBool() ? "1" : in.ConsumeRandomLengthString(24));
  req.path = route.pattern;
  const int query = in.ConsumeIntegralInRange<int>(0, 2);
  for (int i = 0; i < query; ++i) {
    std::string name = in.ConsumeBool() ? "days" : in.ConsumeRandomLengthString(8);
    req.query.emplace_back(std::move(name), in.ConsumeRandomLengthString(24));
  }
  req.body = in.ConsumeRemainingBytesAsString();

  const mdp::host::Response out = route.handler(req);
  // Pages (the error catalogue) and exports (CSV) answer other types; every error is JSON.
  const bool json = out.content_type.rfind("application/json", 0) == 0;
  boost::json::error_code ec;
  boost::json::value v;
  if (json) v = boost::json::parse(out.body, ec);
  const bool bad_status = out.status < 200 || out.status > 599 || (out.status >= 500 && out.status != 503);
  const bool bad_body = json ? (ec || !v.is_object() || (out.status >= 400 && !v.as_object().contains("error")))
                             : (out.status >= 400 || out.body.empty());
  if (bad_status || bad_body) {
    // Say what broke before stopping: the crash input alone does not show the answer.
    std::fprintf(stderr, "%s %s -> %d %.*s\n", req.method.c_str(), req.path.c_str(), out.status,
                 static_cast<int>(out.body.size() > 2000 ? 2000 : out.body.size()), out.body.data());
    __builtin_trap();
  }
  return 0;
}
