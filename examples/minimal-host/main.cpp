// A minimal host for MyDentalPractice plugins, written from host_interface/HOSTING.md alone: no
// HTTP server, one SQLite file, one clinic. It loads every bundle under --plugins the way the
// guide's step 3 says, runs a scenario against the api-access plugin (create a key, allow, deny,
// plan change, revoke, usage), unloads it and proves the module left the process, then loads it
// again on the same database. Exit status 0 only if every check held; each check prints a line.
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <boost/dll/import.hpp>
#include <boost/dll/shared_library.hpp>
#include <boost/property_tree/json_parser.hpp>
#include <boost/property_tree/ptree.hpp>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include "mdp/host/plugin.hpp"
#include "mdp/host/sdk/migrations.hpp"
#include "mdp/host/sdk/no_metrics.hpp"

namespace fs = std::filesystem;
namespace pt = boost::property_tree;
using namespace mdp::host;

namespace {

int failures = 0;
void check(bool ok, const std::string& what) {
  std::cout << (ok ? "ok:   " : "FAIL: ") << what << "\n";
  if (!ok) ++failures;
}

// Is a file whose name contains `needle` mapped into this process?
bool mapped(const std::string& needle) {
  std::ifstream maps("/proc/self/maps");
  for (std::string line; std::getline(maps, line);)
    if (line.find(needle) != std::string::npos) return true;
  return false;
}

// ---- services (HOSTING.md step 2) -----------------------------------------------------------

// A pool of SQLite sessions: borrow waits at most `timeout`, never hands out a session twice.
class SqlitePool final : public Database {
 public:
  SqlitePool(const std::string& file, std::size_t size) {
    for (std::size_t i = 0; i < size; ++i) {
      auto s = std::make_unique<soci::session>(soci::sqlite3, "db=\"" + file + "\"");
      sdk::execute_script(*s, Dialect::sqlite,
                          "PRAGMA journal_mode=WAL; PRAGMA busy_timeout=5000; "
                          "PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL;");
      sessions_.push_back(std::move(s));
      free_.push_back(true);
    }
  }
  Dialect dialect() const noexcept override { return Dialect::sqlite; }
  soci::session* borrow(std::chrono::milliseconds timeout, std::size_t& token) noexcept override {
    std::unique_lock lock(mutex_);
    auto any_free = [&] { return std::find(free_.begin(), free_.end(), true) != free_.end(); };
    if (!cv_.wait_for(lock, timeout, any_free)) return nullptr;
    token = static_cast<std::size_t>(std::find(free_.begin(), free_.end(), true) - free_.begin());
    free_[token] = false;
    return sessions_[token].get();
  }
  void give_back(std::size_t token) noexcept override {
    {
      std::lock_guard lock(mutex_);
      if (token < free_.size()) free_[token] = true;
    }
    cv_.notify_one();
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<soci::session>> sessions_;
  std::vector<bool> free_;
};

class SystemClock final : public Clock {
 public:
  TimePoint now() const noexcept override { return std::chrono::system_clock::now(); }
};

class StderrLog final : public Log {
 public:
  void write(LogLevel level, std::string_view message) noexcept override {
    static const char* names[] = {"debug", "info", "warning", "error"};
    std::fprintf(stderr, "[plugin] %s: %.*s\n", names[static_cast<int>(level)],
                 static_cast<int>(message.size()), message.data());
  }
};

// One clinic (1, Enterprise) with one admin (1); a lookup of anything else is not_found.
class MemoryDirectory final : public Directory {
 public:
  Lookup<User> user(UserId id) const noexcept override {
    if (id != 1) return Lookup<User>::not_found();
    return Lookup<User>::found(User{1, 1, "Olivia Hart", "owner@clinic.test", "admin"});
  }
  Lookup<Clinic> clinic(ClinicId id) const noexcept override {
    if (id != 1) return Lookup<Clinic>::not_found();
    return Lookup<Clinic>::found(Clinic{1, "Bright Smiles Dental", "Europe/London"});
  }
};

// Plans held in memory; a real host reads its billing tables and answers unavailable when it
// cannot. Features follow the rule in HOSTING.md: tier listed, else addon held, else off.
class MemorySubscriptions final : public Subscriptions {
 public:
  std::vector<FeatureSpec> features;
  std::map<ClinicId, std::string> tiers{{1, "enterprise"}};
  std::map<ClinicId, std::vector<std::string>> held_addons{{1, {}}};

  Lookup<std::string> tier(ClinicId c) const noexcept override {
    std::lock_guard lock(mutex_);
    auto it = tiers.find(c);
    return it == tiers.end() ? Lookup<std::string>::not_found() : Lookup<std::string>::found(it->second);
  }
  Lookup<std::vector<std::string>> addons_of(ClinicId c) const {
    auto it = held_addons.find(c);
    return it == held_addons.end() ? Lookup<std::vector<std::string>>::not_found()
                              : Lookup<std::vector<std::string>>::found(it->second);
  }
  Lookup<std::vector<std::string>> addons(ClinicId c) const noexcept override {
    std::lock_guard lock(mutex_);
    return addons_of(c);
  }
  Lookup<FeatureState> feature(ClinicId c, std::string_view id) const noexcept override {
    std::lock_guard lock(mutex_);
    auto t = tiers.find(c);
    auto f = std::find_if(features.begin(), features.end(), [&](const FeatureSpec& s) { return s.id == id; });
    if (t == tiers.end() || f == features.end()) return Lookup<FeatureState>::not_found();
    if (std::find(f->tiers.begin(), f->tiers.end(), t->second) != f->tiers.end())
      return Lookup<FeatureState>::found({true, FeatureSource::tier});
    const std::vector<std::string> held = addons_of(c).value;
    if (!f->addon.empty() && std::find(held.begin(), held.end(), f->addon) != held.end())
      return Lookup<FeatureState>::found({true, FeatureSource::addon});
    return Lookup<FeatureState>::found({false, FeatureSource::none});
  }
  void set_tier(ClinicId c, std::string t) {
    std::lock_guard lock(mutex_);
    tiers[c] = std::move(t);
  }

 private:
  mutable std::mutex mutex_;
};

class MapSettings final : public Settings {
 public:
  std::map<std::string, std::string, std::less<>> values;
  std::optional<std::string> value(std::string_view name) const noexcept override {
    auto it = values.find(name);
    return it == values.end() ? std::nullopt : std::optional<std::string>(it->second);
  }
};

// Notifications: this host has no users to tell, so it writes each message to its log, once
// per key as the contract asks.
class LogNotifications final : public Notifications {
 public:
  NotifyResult notify(const Notification& n) noexcept override {
    try {
      std::lock_guard lock(mutex_);
      if (!seen_.insert(n.key).second) return NotifyResult::accepted;
      std::cerr << "minimal-host: notification for clinic " << n.clinic_id << ": " << n.subject << "\n";
      return NotifyResult::accepted;
    } catch (...) {
      return NotifyResult::unavailable;
    }
  }

 private:
  std::mutex mutex_;
  std::set<std::string> seen_;
};

class Services final : public HostServices {
 public:
  explicit Services(const std::string& db_file) : db(db_file, 4) {}
  SqlitePool db;
  SystemClock clk;
  StderrLog lg;
  MemoryDirectory dir;
  MemorySubscriptions subs;
  MapSettings settings_;
  std::vector<ApiScope> scopes{{"read", "Read clinic data", false},
                               {"appointments:write", "Create and change appointments", true}};
  Database& database() noexcept override { return db; }
  const Clock& clock() const noexcept override { return clk; }
  Log& log() noexcept override { return lg; }
  const Directory& directory() const noexcept override { return dir; }
  const Subscriptions& subscriptions() const noexcept override { return subs; }
  const std::vector<ApiScope>& api_scopes() const noexcept override { return scopes; }
  const Settings& settings() const noexcept override { return settings_; }
  // This host exports no metrics: the SDK's discarding implementation (since 2.1).
  Metrics& metrics() noexcept override { return no_metrics; }
  sdk::NoMetrics no_metrics;
  Notifications& notifications() noexcept override { return notes; }
  LogNotifications notes;
};

// ---- loading (HOSTING.md step 3) ------------------------------------------------------------

struct Manifest {
  std::string id, library, entry_symbol, abi, sqlite_dir;
  std::vector<std::string> permissions;
};

// The fields this host uses, checked with the schema's patterns (schema/manifest.schema.json).
Manifest read_manifest(const fs::path& file) {
  pt::ptree tree;
  pt::read_json(file.string(), tree);
  auto field = [&](const char* path, const char* pattern) {
    std::string v = tree.get<std::string>(path, "");
    // Bounded first: the schema allows at most 128 characters, and std::regex recurses per
    // character, so it never sees a longer text.
    if (v.size() > 128 || !std::regex_match(v, std::regex(pattern)))
      throw std::runtime_error(file.string() + ": field \"" + path + "\": missing or malformed");
    return v;
  };
  Manifest m;
  m.id = field("id", "[a-z0-9][a-z0-9-]{0,63}");
  m.abi = field("host_interface_abi", R"([0-9]{1,5}\.[0-9]{1,5})");
  m.library = field("library", R"([A-Za-z0-9_.+-]+\.so(\.[0-9]+)*)");
  m.entry_symbol = field("entry_symbol", "[A-Za-z_][A-Za-z0-9_]{0,127}");
  m.sqlite_dir = field("migrations.sqlite", R"([A-Za-z0-9_-][A-Za-z0-9_.-]*(/[A-Za-z0-9_-][A-Za-z0-9_.-]*)*)");
  for (const auto& [_, p] : tree.get_child("permissions")) m.permissions.push_back(p.data());
  return m;
}

class CollectingRegistrar final : public Registrar {
 public:
  std::vector<FeatureSpec> features;
  std::vector<RouteSpec> routes;
  std::vector<PageSpec> pages;
  std::shared_ptr<ApiHook> hook;
  void add_feature(FeatureSpec f) noexcept override { features.push_back(std::move(f)); }
  void add_route(RouteSpec r) noexcept override { routes.push_back(std::move(r)); }
  void add_settings_page(PageSpec p) noexcept override { pages.push_back(std::move(p)); }
  void set_api_hook(std::shared_ptr<ApiHook> h) noexcept override { hook = std::move(h); }
};

// Everything that came out of the library is declared after it, so it is destroyed first.
struct LoadedPlugin {
  boost::dll::shared_library library;
  std::shared_ptr<Plugin> plugin;
  CollectingRegistrar registered;
  fs::path library_path;
  ~LoadedPlugin() {
    registered = CollectingRegistrar{};
    plugin.reset();
  }
};

std::unique_ptr<LoadedPlugin> load(const fs::path& bundle, Services& services) {
  Manifest m = read_manifest(bundle / "manifest.json");
  if (m.abi.substr(0, m.abi.find('.')) != std::to_string(kAbiMajor))
    throw std::runtime_error(m.id + ": needs host interface " + m.abi);
  auto loaded = std::make_unique<LoadedPlugin>();
  loaded->library_path = bundle / m.library;
  loaded->library.load(loaded->library_path.string(),
                       boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
  // Two plain C calls before any C++ type crosses.
  std::uint32_t abi = loaded->library.get<std::uint32_t()>(kAbiSymbol)();
  if (abi_major(abi) != kAbiMajor || abi_minor(abi) > kAbiMinor)
    throw std::runtime_error(loaded->library_path.string() + ": built for host interface " +
                             std::to_string(abi_major(abi)) + "." + std::to_string(abi_minor(abi)));
  if (!loaded->library.has(kBuildSymbol))
    throw std::runtime_error(loaded->library_path.string() + ": no mdp_plugin_build; refused");
  std::string differs = build_mismatch(
      *loaded->library.get<const mdp_plugin_build_info*()>(kBuildSymbol)(), this_build());
  if (!differs.empty())
    throw std::runtime_error(loaded->library_path.string() + ": " + differs + "; refused");

  auto result = sdk::apply_migrations(services.db, m.id, bundle / m.sqlite_dir);
  std::cout << "      migrations: " << result.applied.size() << " applied, "
            << result.already_applied << " already applied\n";

  {
    auto factory = boost::dll::import_alias<PluginFactory>(loaded->library, m.entry_symbol);
    loaded->plugin = factory();
  }
  if (!loaded->plugin) throw std::runtime_error(m.id + ": factory returned nothing");
  LoadResult r = loaded->plugin->on_load(services, loaded->registered);
  if (!r.ok) {
    loaded->registered = CollectingRegistrar{};  // refused: no on_stop
    throw std::runtime_error(m.id + " refused to load: " + r.message);
  }
  services.subs.features = loaded->registered.features;
  return loaded;
}

// ---- serving (HOSTING.md step 4) ------------------------------------------------------------

class Request final : public ApiRequest {
 public:
  std::string authorization;
  std::string_view method() const noexcept override { return "GET"; }
  std::string_view path() const noexcept override { return "/api/v1/patients"; }
  std::string_view query() const noexcept override { return ""; }
  std::size_t headers(std::string_view name, std::string_view* out, std::size_t max) const noexcept override {
    auto lower = [](std::string_view s) {
      std::string o(s);
      for (char& c : o) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      return o;
    };
    if (authorization.empty() || lower(name) != "authorization") return 0;
    if (max > 0) out[0] = authorization;
    return 1;
  }
  std::string_view required_scope() const noexcept override { return "read"; }
  std::string_view client_address() const noexcept override { return "127.0.0.1"; }
};

// One public API request through the hook: on_api_request, then on_api_response exactly once.
ApiDecision api_request(ApiHook& hook, const std::string& key) {
  Request req;
  if (!key.empty()) req.authorization = "Bearer " + key;
  ApiDecision d;
  hook.on_api_request(req, d);
  hook.on_api_response(d.token, d.allowed ? 200 : d.status);
  return d;
}

std::string error_code(const ApiDecision& d) {
  if (d.body.empty()) return "";
  pt::ptree t;
  std::istringstream in(d.body);
  pt::read_json(in, t);
  return t.get<std::string>("error.code", "");
}

// Calls the plugin route `method pattern` as the clinic's admin.
pt::ptree call_route(LoadedPlugin& p, const std::string& method, const std::string& pattern,
                     const std::string& path, std::vector<NameValue> params, std::string body,
                     std::vector<NameValue> query = {}) {
  for (const auto& r : p.registered.routes) {
    if (r.method != method || r.pattern != pattern) continue;
    RouteRequest req;
    req.method = method;
    req.path = path;
    req.params = std::move(params);
    req.query = std::move(query);
    req.body = std::move(body);
    req.user = User{1, 1, "Olivia Hart", "owner@clinic.test", "admin"};
    Response out = r.handler(req);
    pt::ptree t;
    std::istringstream in(out.body);
    pt::read_json(in, t);
    t.put("http_status", out.status);
    return t;
  }
  throw std::runtime_error("the plugin registered no route " + method + " " + pattern);
}

}  // namespace

int main(int argc, char** argv) {
  fs::path plugins, database;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--plugins") plugins = argv[i + 1];
    if (a == "--database") database = argv[i + 1];
  }
  if (plugins.empty() || database.empty()) {
    std::cerr << "usage: mdp-minimal-host --plugins DIR --database FILE.db\n";
    return 2;
  }
  const fs::path bundle = plugins / "api-access";
  try {
    check(!mapped("libbotan") && !mapped("libboost_json"),
          "this host maps neither Botan nor Boost.JSON before loading the plugin");
    Services services(database.string());
    std::string key, library;
    long long key_id = 0;
    {
      auto p = load(bundle, services);
      library = fs::weakly_canonical(p->library_path).string();
      check(mapped(library) && p->registered.hook != nullptr, "plugin loaded, API hook registered");
      ApiHook& hook = *p->registered.hook;

      pt::ptree created = call_route(*p, "POST", "keys", "keys", {}, R"({"label":"Minimal host","scopes":["read"]})");
      key = created.get<std::string>("secret", "");
      key_id = created.get<long long>("key.id", 0);
      check(created.get<int>("http_status") == 201 && key.size() == 62, "created a key (201, 62 characters)");

      ApiDecision allowed = api_request(hook, key);
      check(allowed.allowed && allowed.clinic_id == 1, "the key is allowed for clinic 1");
      ApiDecision wrong = api_request(hook, "mdp_" + std::string(58, 'A'));
      check(!wrong.allowed && wrong.status == 401 && error_code(wrong) == "invalid_api_key",
            "an unknown key is denied 401 invalid_api_key");

      services.subs.set_tier(1, "basic");
      p->plugin->on_subscription_changed(1);
      ApiDecision locked = api_request(hook, key);
      check(!locked.allowed && locked.status == 403 && error_code(locked) == "api_access_not_enabled",
            "after a plan change to basic, 403 api_access_not_enabled");
      services.subs.set_tier(1, "enterprise");
      p->plugin->on_subscription_changed(kEveryClinic);
      check(api_request(hook, key).allowed, "after the plan change back (every clinic), allowed again");

      std::string id = std::to_string(key_id);
      pt::ptree revoked = call_route(*p, "POST", "keys/{id}/revoke", "keys/" + id + "/revoke", {{"id", id}}, "");
      check(revoked.get<std::string>("key.status", "") == "revoked", "revoked the key");
      ApiDecision after = api_request(hook, key);
      check(!after.allowed && after.status == 401 && error_code(after) == "revoked_api_key",
            "the next request with it is denied 401 revoked_api_key");

      pt::ptree usage = call_route(*p, "GET", "keys/{id}/usage", "keys/" + id + "/usage", {{"id", id}}, "",
                                   {{"days", "1"}});
      long long requests = usage.get<long long>("requests", -1);
      long long client_errors = usage.get<long long>("client_errors", -1);
      std::cout << "      usage today: " << requests << " requests, " << client_errors << " client errors\n";
      check(requests == 4 && client_errors == 2,
            "usage counts this key's 4 requests (2 allowed, 403 and 401 refused)");
      p->plugin->on_stop();
    }
    check(!mapped(library), "after unload the plugin module is no longer mapped (/proc/self/maps)");
    // Not a check: Debian's Botan and Boost.JSON carry STB_GNU_UNIQUE symbols, so glibc keeps
    // them once loaded. What matters is that the plugin's own module, whose code changes with
    // each release, is gone.
    if (mapped("libbotan") || mapped("libboost_json"))
      std::cout << "note: Botan/Boost.JSON stay mapped (their STB_GNU_UNIQUE symbols make glibc keep them)\n";

    {
      auto p = load(bundle, services);
      check(mapped(library), "reloaded the plugin on the same database");
      ApiDecision still = api_request(*p->registered.hook, key);
      check(!still.allowed && error_code(still) == "revoked_api_key", "the revoked key stays revoked");
      pt::ptree fresh = call_route(*p, "POST", "keys", "keys", {}, R"({"label":"Second","scopes":["read"]})");
      check(api_request(*p->registered.hook, fresh.get<std::string>("secret", "")).allowed,
            "a new key works after the reload");
      p->plugin->on_stop();
    }
    check(!mapped(library), "unloaded again");
  } catch (const std::exception& e) {
    std::cout << "FAIL: " << e.what() << "\n";
    ++failures;
  }
  std::cout << (failures == 0 ? "minimal host: all checks passed\n" : "minimal host: checks failed\n");
  return failures == 0 ? 0 : 1;
}
