// The devhost's request handling from raw bytes: Beast parses them with the server's limits,
// and whatever parses goes to Application::handle exactly as the server hands it over (a fresh
// SQLite database with the demo data, no plugin loaded). Every answer has a status from 200 to
// 499 (503 aside) and the requests never crash or hang the host; POST /login runs through the
// real login pool and throttle.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <string>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include "app/application.hpp"
#include "services/clocks.hpp"
#include "services/host_schema.hpp"
#include "services/host_services.hpp"
#include "services/soci_database.hpp"

namespace {

namespace http = boost::beast::http;
using namespace mdp::devhost;

std::filesystem::path database_path() {
  return std::filesystem::temp_directory_path() / ("mdp-fuzz-devhost-" + std::to_string(::getpid()) + ".db");
}

struct Host {
  SociDatabase db{DatabaseConfig{mdp::host::Dialect::sqlite, database_path().string()}, 2};
  ManualClock clock;
  FeatureRegistry features;
  RolePermissions permissions;
  DbDirectory directory{db};
  DbSubscriptions subscriptions{db, features};
  SharedServices shared{db, clock, directory, subscriptions, features, permissions, {}};
  std::unique_ptr<Application> app;

  Host() {
    ensure_host_schema(db);
    seed_demo_data(db);
    app = std::make_unique<Application>(shared, &clock, std::vector<std::shared_ptr<LoadedPlugin>>{});
  }
};

Host& host() {
  static Host* h = [] {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(database_path().string() + suffix);
    std::atexit([] {
      for (const char* suffix : {"", "-wal", "-shm"}) {
        std::error_code ec;
        std::filesystem::remove(database_path().string() + suffix, ec);
      }
    });
    return new Host;  // never destroyed: libFuzzer exits without unwinding
  }();
  return *h;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Host& h = host();
  http::request_parser<http::string_body> parser;
  parser.header_limit(16 * 1024);
  parser.body_limit(Application::kMaxBodyBytes);
  parser.eager(true);
  boost::beast::error_code ec;
  parser.put(boost::asio::buffer(data, size), ec);
  if (ec || !parser.is_done()) return 0;  // the server answers 400/413/431 itself

  const auto& req = parser.get();
  HttpRequest view;
  view.method = req.method_string();
  view.target = req.target();
  for (const auto& field : req) view.headers.emplace_back(field.name_string(), field.value());
  view.body = req.body();
  view.peer_address = "192.0.2.7";

  std::promise<HttpResponse> answer;
  h.app->handle(view, [&answer](HttpResponse out) { answer.set_value(std::move(out)); });
  const HttpResponse out = answer.get_future().get();
  if (out.status < 200 || out.status > 599 || (out.status >= 500 && out.status != 503)) __builtin_trap();
  for (const auto& [name, value] : response_headers(out, h.app->header_policy()))
    if (value.find_first_of("\r\n") != std::string_view::npos) __builtin_trap();
  return 0;
}
