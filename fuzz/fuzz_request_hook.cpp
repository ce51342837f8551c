// The request hook's header and query handling, driven the way the host drives it (through a
// fake ApiRequest): any method, path, query, scope and headers, mixed with the one real key.
// Every decision is either "allowed, as clinic 1" or a refusal with a status and a JSON error
// body, and no refusal ever repeats the key.
#include <cstddef>
#include <cstdint>
#include <string>

#include <boost/json.hpp>
#include <fuzzer/FuzzedDataProvider.h>

#include "plugin_harness.hpp"

namespace {
const char* const kHeaderNames[] = {"Authorization", "authorization", "X-API-Key", "x-api-key", "Cookie", "X-Other"};
const char* const kScopes[] = {"read", "appointments:write", "", "admin"};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto& h = mdp::fuzz::plugin_harness();
  FuzzedDataProvider in(data, size);
  mdp::api_access::test::FakeApiRequest r;
  r.method_ = in.ConsumeBool() ? "GET" : in.ConsumeRandomLengthString(8);
  r.path_ = in.ConsumeRandomLengthString(64);
  r.query_ = in.ConsumeRandomLengthString(256);
  r.scope_ = kScopes[in.ConsumeIntegralInRange<int>(0, 3)];
  r.client_address_ = in.ConsumeBool() ? "192.0.2.10" : in.ConsumeRandomLengthString(40);
  const int headers = in.ConsumeIntegralInRange<int>(0, 5);
  for (int i = 0; i < headers; ++i) {
    std::string name = kHeaderNames[in.ConsumeIntegralInRange<int>(0, 5)];
    std::string value;
    switch (in.ConsumeIntegralInRange<int>(0, 3)) {
      case 0: value = "Bearer " + h.stored_key; break;
      case 1: value = in.ConsumeRandomLengthString(16) + h.stored_key + in.ConsumeRandomLengthString(16); break;
      case 2: {  // the real key with some characters changed
        value = h.stored_key;
        const int edits = in.ConsumeIntegralInRange<int>(1, 3);
        for (int e = 0; e < edits; ++e)
          value[in.ConsumeIntegralInRange<std::size_t>(0, value.size() - 1)] = in.ConsumeIntegral<char>();
        break;
      }
      default: value = in.ConsumeRandomLengthString(200);
    }
    r.header(std::move(name), std::move(value));
  }

  mdp::host::ApiDecision d;
  h.registrar.hook->on_api_request(r, d);
  if (d.allowed) {
    if (d.clinic_id != mdp::api_access::test::kClinicA) __builtin_trap();
  } else {
    if (d.status < 400 || d.status > 599) __builtin_trap();
    boost::json::error_code ec;
    auto v = boost::json::parse(d.body, ec);
    if (ec || !v.is_object() || !v.as_object().contains("error")) __builtin_trap();
    if (d.body.find(h.stored_key) != std::string::npos) __builtin_trap();
  }
  h.registrar.hook->on_api_response(d.token, d.allowed ? 200 : d.status);
  return 0;
}
