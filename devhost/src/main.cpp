// mdp-devhost: the reference host. Usage (README):
//   mdp-devhost [--listen 127.0.0.1:PORT] [--database sqlite:PATH|postgresql://...|"host=... dbname=..."]
//               [--plugins DIR] [--test-clock] [--https] [--trusted-proxy CIDR]...
//               [--clinic-time-zone CLINIC_ID=ZONE]... [--outbox DIR] [--record-responses FILE]
// --clinic-time-zone: sets a clinic's IANA time zone (e.g. 1=Europe/Berlin; an empty ZONE means
// UTC), stored in host_clinics and given to plugins (Directory::clinic). Must name a zone of the
// system's tz database (/usr/share/zoneinfo).
// --outbox: the folder where the devhost writes the e-mails it would send (plugin notifications,
// one .eml file each); without it they stay queued in host_notifications.
// --https: clients reach the devhost over HTTPS (a TLS proxy in front of it): the session cookie
// gets Secure and responses carry Strict-Transport-Security. The devhost itself speaks plain HTTP.
// --record-responses FILE: appends every answer of a plugin route or the public API to FILE, one
// JSON line each, with API keys masked (app/response_recorder.hpp); for the OpenAPI check of the
// tests, not for production.
// --trusted-proxy CIDR (repeatable): X-Forwarded-For is believed only from these peers
// (app/client_address.hpp); without it the connection's peer is the client.
// Defaults: 127.0.0.1:8080, sqlite:./data/devhost.db, and the plugin bundles built beside the
// binary (<exe dir>/../plugins). Prints exactly one line on stdout once ready:
//   mdp-devhost listening on http://127.0.0.1:PORT
// Any startup failure (bad flag, database, manifest, ABI mismatch) is one line on stderr and exit 1.
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <boost/dll/runtime_symbol_info.hpp>

#include "app/application.hpp"
#include "loader/plugin_loader.hpp"
#include "server/http_server.hpp"
#include "services/clocks.hpp"
#include "services/host_schema.hpp"
#include "services/host_services.hpp"
#include "services/prometheus_metrics.hpp"
#include "services/soci_database.hpp"
#include "services/subscription_changes.hpp"

namespace {

namespace fs = std::filesystem;
using namespace mdp::devhost;

constexpr const char* kUsage =
    "usage: mdp-devhost [--listen 127.0.0.1:PORT] [--database sqlite:PATH|postgresql://...] "
    "[--plugins DIR] [--plugin-setting PLUGIN.NAME=VALUE]... [--test-clock] [--https] [--trusted-proxy CIDR]... "
    "[--clinic-time-zone CLINIC_ID=ZONE]... [--outbox DIR] [--record-responses FILE]";

struct Options {
  std::string address = "127.0.0.1";
  unsigned short port = 8080;
  std::string database;  // empty: ./data/devhost.db
  std::string plugins_dir;
  std::string outbox;  // empty: e-mails stay queued
  std::string record_responses;  // empty: nothing recorded
  bool test_clock = false;
  bool https = false;
  TrustedProxies trusted_proxies;
  std::vector<std::pair<std::string, std::string>> plugin_settings;  // "<plugin>.<name>", value
  std::vector<std::pair<long long, std::string>> clinic_time_zones;   // clinic id, IANA name
};

// An IANA zone name the system's tz database holds: letters, digits, '_', '+', '-' in '/'-separated
// parts (no '.', so no path escapes), and a file under /usr/share/zoneinfo.
bool is_known_time_zone(const std::string& z) {
  if (z.empty()) return true;  // UTC
  if (z.size() > 64 || z.front() == '/' || z.back() == '/' || z.find("//") != std::string::npos) return false;
  for (unsigned char c : z)
    if (!(std::isalnum(c) || c == '_' || c == '+' || c == '-' || c == '/')) return false;
  std::error_code ec;
  return fs::is_regular_file(fs::path("/usr/share/zoneinfo") / z, ec);
}

[[noreturn]] void die(const std::string& line, int code = 1) {
  std::cerr << "mdp-devhost: " << line << std::endl;
  std::exit(code);
}

Options parse_args(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](const char* flag) -> std::string {
      if (i + 1 >= argc) die(std::string(flag) + " needs a value; " + kUsage, 2);
      return argv[++i];
    };
    if (arg == "--listen") {
      std::string v = value("--listen");
      auto colon = v.rfind(':');
      if (colon == std::string::npos || colon == 0) die("--listen must be ADDRESS:PORT, got \"" + v + "\"", 2);
      o.address = v.substr(0, colon);
      std::string port = v.substr(colon + 1);
      if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
          std::stoul(port) > 65535)
        die("--listen port must be 0-65535, got \"" + port + "\"", 2);
      o.port = static_cast<unsigned short>(std::stoul(port));
    } else if (arg == "--database") {
      o.database = value("--database");
    } else if (arg == "--outbox") {
      o.outbox = value("--outbox");
    } else if (arg == "--record-responses") {
      o.record_responses = value("--record-responses");
    } else if (arg == "--plugins") {
      o.plugins_dir = value("--plugins");
    } else if (arg == "--plugin-setting") {
      std::string v = value("--plugin-setting");
      const auto eq = v.find('=');
      const auto dot = v.find('.');
      if (eq == std::string::npos || dot == std::string::npos || dot == 0 || dot + 1 >= eq)
        die("--plugin-setting must be PLUGIN.NAME=VALUE, got \"" + v + "\"", 2);
      o.plugin_settings.emplace_back(v.substr(0, eq), v.substr(eq + 1));
    } else if (arg == "--clinic-time-zone") {
      std::string v = value("--clinic-time-zone");
      auto eq = v.find('=');
      long long id = 0;
      try {
        std::size_t used = 0;
        id = eq == std::string::npos ? 0 : std::stoll(v.substr(0, eq), &used);
        if (used != eq) id = 0;
      } catch (const std::exception&) {
        id = 0;
      }
      if (id <= 0) die("--clinic-time-zone must be CLINIC_ID=ZONE, got \"" + v + "\"", 2);
      std::string zone = v.substr(eq + 1);
      if (!is_known_time_zone(zone))
        die("--clinic-time-zone: \"" + zone + "\" is not a time zone of /usr/share/zoneinfo (e.g. Europe/Berlin)", 2);
      o.clinic_time_zones.emplace_back(id, zone);
    } else if (arg == "--test-clock") {
      o.test_clock = true;
    } else if (arg == "--https") {
      o.https = true;
    } else if (arg == "--trusted-proxy") {
      try {
        o.trusted_proxies.add(value("--trusted-proxy"));
      } catch (const std::invalid_argument& e) {
        die(e.what(), 2);
      }
    } else if (arg == "--help" || arg == "-h") {
      std::cout << kUsage << std::endl;
      std::exit(0);
    } else {
      die("unknown argument \"" + arg + "\"; " + kUsage, 2);
    }
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt = parse_args(argc, argv);

  DatabaseConfig dbc;
  try {
    if (opt.database.empty()) {
      fs::create_directories("data");
      dbc = {mdp::host::Dialect::sqlite, (fs::current_path() / "data" / "devhost.db").string()};
    } else {
      dbc = parse_database_option(opt.database);
    }
  } catch (const std::exception& e) {
    die(e.what(), 2);
  }

  fs::path plugins_dir = opt.plugins_dir.empty()
                             ? boost::dll::program_location().parent_path().parent_path() / "plugins"
                             : fs::path(opt.plugins_dir);

  // Declaration order matters: the services below outlive the plugins and the application.
  std::unique_ptr<SociDatabase> db;
  try {
    db = std::make_unique<SociDatabase>(dbc, 8);
    ensure_host_schema(*db);
    seed_demo_data(*db);
    for (const auto& [clinic, zone] : opt.clinic_time_zones)
      if (!set_clinic_time_zone(*db, clinic, zone)) die("--clinic-time-zone: no clinic with id " + std::to_string(clinic), 2);
  } catch (const std::exception& e) {
    die(e.what());
  }
  SystemClock system_clock;
  ManualClock manual_clock;
  const mdp::host::Clock& clock = opt.test_clock ? static_cast<const mdp::host::Clock&>(manual_clock)
                                                 : static_cast<const mdp::host::Clock&>(system_clock);
  FeatureRegistry features;
  RolePermissions permissions;
  DbDirectory directory(*db);
  DbSubscriptions subscriptions(*db, features);
  std::unique_ptr<NotificationCenter> notifications;
  try {
    notifications = std::make_unique<NotificationCenter>(*db, clock, opt.outbox);
  } catch (const std::exception& e) {
    die("--outbox: " + std::string(e.what()));
  }
  StderrLog log("devhost");
  PrometheusMetrics metrics(log);  // GET /metrics on the main listener
  SharedServices shared{*db, clock, directory, subscriptions, features, permissions,
                        opt.plugin_settings, &metrics, notifications.get()};

  std::vector<std::shared_ptr<LoadedPlugin>> plugins;
  if (!opt.plugins_dir.empty() && !fs::is_directory(plugins_dir))
    die("--plugins: " + plugins_dir.string() + " is not a folder");
  for (const auto& manifest : find_manifests(plugins_dir)) {
    try {
      plugins.push_back(load_plugin(manifest, shared));
      log.write(mdp::host::LogLevel::info, "loaded plugin " + plugins.back()->id() + " " +
                                               plugins.back()->manifest().version);
    } catch (const std::exception& e) {
      for (auto& p : plugins) p->stop();
      plugins.clear();  // unload what was loaded before exiting
      die(e.what());
    }
  }
  if (plugins.empty())
    log.write(mdp::host::LogLevel::warning,
              "no plugin found in " + plugins_dir.string() + "; the public API refuses every request");

  ApplicationOptions app_options;
  app_options.https = opt.https;
  app_options.trusted_proxies = opt.trusted_proxies;
  if (!opt.record_responses.empty()) {
    try {
      app_options.recorder = std::make_shared<ResponseRecorder>(opt.record_responses);
    } catch (const std::exception& e) {
      for (auto& p : plugins) p->stop();
      plugins.clear();
      die("--record-responses: " + std::string(e.what()));
    }
  }
  Application app(shared, opt.test_clock ? &manual_clock : nullptr, std::move(plugins), app_options);
  // Plan changes made by any process sharing the database reach this one's plugins.
  SubscriptionChangeListener listener(*db, [&app](mdp::host::ClinicId c) { app.subscription_changed(c); });
  std::unique_ptr<HttpServer> server;
  try {
    listener.start();
    server = std::make_unique<HttpServer>(app, opt.address, opt.port, 4);
  } catch (const std::exception& e) {
    listener.stop();
    app.stop_plugins();
    die(e.what());
  }
  notifications->set_base_url("http://" + opt.address + ":" + std::to_string(server->port()));
  notifications->flush_outbox();  // e-mails a previous run queued but could not write
  std::printf("mdp-devhost listening on http://%s:%u\n", opt.address.c_str(),
              static_cast<unsigned>(server->port()));
  std::fflush(stdout);

  server->run();
  app.stop_background_work();  // before the server (and the connections its jobs hold) goes
  server.reset();
  listener.stop();
  app.stop_plugins();
  log.write(mdp::host::LogLevel::info, "stopped");
  return 0;
}
