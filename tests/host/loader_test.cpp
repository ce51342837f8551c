// The loader: manifest validation (one line naming file and field), ABI refusal, registration
// checks, and that a plugin really unloads once the last object from it is gone.
#include <fstream>
#include <sstream>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "loader/manifest.hpp"
#include "loader/plugin_loader.hpp"
#include "mdp/host/sdk/migrations.hpp"
#include "services/clocks.hpp"
#include "services/host_schema.hpp"
#include "services/soci_database.hpp"
#include "support/devhost_process.hpp"
#include "support/temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace mdp;
using namespace mdp::devhost;
using namespace mdp::host::sdk;

const fs::path kApiAccessBundle = fs::path(MDP_TEST_PLUGINS_DIR) / "api-access";
const fs::path kBundles = MDP_TEST_BUNDLES;

// Is a file with this path mapped into this process?
bool mapped(const fs::path& library) {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  std::string needle = fs::weakly_canonical(library).string();
  while (std::getline(maps, line))
    if (line.find(needle) != std::string::npos) return true;
  return false;
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A host's shared services on a fresh SQLite file.
struct Host {
  test::TempDir dir;
  SociDatabase db{host::Dialect::sqlite, (dir / "host.db").string(), 2};
  ManualClock clock;
  FeatureRegistry features;
  RolePermissions permissions;
  DbDirectory directory{db};
  DbSubscriptions subscriptions{db, features};
  SharedServices shared{db, clock, directory, subscriptions, features, permissions};
  explicit Host(bool seed = true) {
    ensure_host_schema(db);
    if (seed) seed_demo_data(db);  // four Argon2 hashes: skipped where no test needs users
  }
};

TEST(Loader, LoadsUsesAndReallyUnloadsTheApiAccessPlugin) {
  Host h;
  auto loaded = load_plugin(kApiAccessBundle / "manifest.json", h.shared);
  ASSERT_TRUE(loaded);
  fs::path lib = loaded->library_path();
  EXPECT_TRUE(mapped(lib));
  EXPECT_EQ(loaded->id(), "api-access");
  ASSERT_TRUE(h.features.find("api_access"));
  EXPECT_EQ(h.features.find("api_access")->label, "API access");
  // Used: the host asks it about a plan change and the feature answers per clinic.
  loaded->plugin()->on_subscription_changed(1);
  EXPECT_TRUE(h.subscriptions.feature(1, "api_access").value.enabled);    // enterprise
  EXPECT_FALSE(h.subscriptions.feature(2, "api_access").value.enabled);   // professional, no addon
  EXPECT_EQ(h.subscriptions.feature(2, "api_access").status, host::LookupStatus::found);
  EXPECT_EQ(h.subscriptions.feature(3, "api_access").value.source, host::FeatureSource::addon);
  EXPECT_EQ(h.subscriptions.feature(999, "api_access").status, host::LookupStatus::not_found);
  EXPECT_TRUE(h.permissions.allows("admin", "api_keys.manage"));
  EXPECT_FALSE(h.permissions.allows("staff", "api_keys.manage"));

  // An object from the plugin outlives the LoadedPlugin: the library must stay mapped.
  std::shared_ptr<host::Plugin> kept = loaded->plugin();
  loaded->stop();
  loaded.reset();
  EXPECT_TRUE(mapped(lib));
  kept->on_subscription_changed(2);  // still callable: would crash if unloaded
  kept.reset();
  EXPECT_FALSE(mapped(lib)) << "the library is still mapped after its last object went away";
}

TEST(Loader, RouteHandlersKeepTheLibraryLoaded) {
  Host h;
  auto loaded = load_plugin(kBundles / "good" / "manifest.json", h.shared);
  fs::path lib = loaded->library_path();
  ASSERT_EQ(loaded->routes().size(), 2u);  // echo/{id} and changes
  host::RouteHandler handler;
  for (const auto& route : loaded->routes())
    if (route.pattern == "echo/{id}") handler = route.handler;
  ASSERT_TRUE(handler);
  ASSERT_TRUE(loaded->hook());
  loaded->stop();
  loaded.reset();
  EXPECT_TRUE(mapped(lib));
  host::RouteRequest req;
  req.params = {{"id", "7"}};
  EXPECT_EQ(handler(req).body, R"({"id":"7"})");
  handler = nullptr;
  EXPECT_FALSE(mapped(lib));
}

// Each plugin below is test_plugin.cpp built with one mismatching flag (tests/host/CMakeLists.txt).
// The host must refuse it in one line that names what differs, call none of its C++ code, and
// leave it unmapped.
struct Mismatch {
  const char* bundle;
  const char* expected;  // part of the one-line refusal
};

void PrintTo(const Mismatch& m, std::ostream* os) { *os << m.bundle; }

class ToolchainMismatch : public ::testing::TestWithParam<Mismatch> {};

TEST_P(ToolchainMismatch, IsRefusedInOneLineNamingTheDifference) {
  const Mismatch& c = GetParam();
  Host h(/*seed=*/false);
  fs::path bundle = kBundles / c.bundle;
  fs::path lib = bundle / ("libmdp_test_" + std::string(c.bundle) + ".so");
  ASSERT_TRUE(fs::exists(lib)) << lib;
  try {
    load_plugin(bundle / "manifest.json", h.shared);
    FAIL() << "loaded " << lib;
  } catch (const LoadError& e) {
    std::string what = e.what();
    EXPECT_NE(what.find(c.expected), std::string::npos) << what;
    EXPECT_NE(what.find(lib.string()), std::string::npos) << what;
    EXPECT_NE(what.find("refused"), std::string::npos) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
  }
  EXPECT_FALSE(mapped(lib));
  EXPECT_TRUE(h.features.all().empty());
}

std::vector<Mismatch> mismatches() {
  std::vector<Mismatch> out = {
      {"abi99", "built for host interface 99.0, this host provides 2."},
      {"nobuildinfo", "does not export mdp_plugin_build"},
      {"oldstring", "standard library string ABI: plugin _GLIBCXX_USE_CXX11_ABI=0, host 1"},
      {"othersoci", "SOCI: plugin 4.1.0, host 4.0.3"},
  };
#if MDP_HAVE_OTHER_COMPILER
  out.push_back({"othercompiler", "compiler: plugin clang++ "});
#endif
  return out;
}

INSTANTIATE_TEST_SUITE_P(Loader, ToolchainMismatch, ::testing::ValuesIn(mismatches()),
                         [](const auto& info) { return std::string(info.param.bundle); });

TEST(Loader, BuildMismatchNamesEveryDifferenceInOneLine) {
  mdp_plugin_build_info host = host::this_build();
  EXPECT_EQ(host::build_mismatch(host, host), "");
  mdp_plugin_build_info plugin = host;
  plugin.string_abi = 0;
  plugin.compiler_family = static_cast<std::uint32_t>(host::CompilerFamily::clang);
  plugin.compiler_major = 14;
  plugin.soci_version = 400100;
  host.string_abi = 1;
  host.compiler_family = static_cast<std::uint32_t>(host::CompilerFamily::gcc);
  host.compiler_major = 12;
  host.soci_version = 400003;
  EXPECT_EQ(host::build_mismatch(plugin, host),
            "standard library string ABI: plugin _GLIBCXX_USE_CXX11_ABI=0, host 1; "
            "compiler: plugin clang++ 14, host g++ 12; SOCI: plugin 4.1.0, host 4.0.3");
  plugin = host;
  plugin.size = 8;  // a shorter struct from some other program: nothing else is read
  EXPECT_NE(host::build_mismatch(plugin, host).find("too short"), std::string::npos);
  // A later minor version of the interface is not a toolchain difference.
  plugin = host;
  plugin.abi = host::pack_abi(host::kAbiMajor, host::kAbiMinor + 1);
  EXPECT_EQ(host::build_mismatch(plugin, host), "");
}

TEST(Loader, RefusesInvalidRegistrationsAndUnloads) {
  Host h;
  try {
    load_plugin(kBundles / "badreg" / "manifest.json", h.shared);
    FAIL() << "loaded a plugin with invalid registrations";
  } catch (const LoadError& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("undeclared_feature"), std::string::npos) << what;
    EXPECT_NE(what.find("GET things registered twice"), std::string::npos) << what;
  }
  EXPECT_FALSE(mapped(kBundles / "badreg" / "libmdp_test_badreg.so"));
}

TEST(Loader, AppliesTheBundleMigrationsOnce) {
  Host h;
  load_plugin(kBundles / "good" / "manifest.json", h.shared)->stop();
  auto again = apply_migrations(h.db, "test-good", kBundles / "good" / "sql" / "sqlite");
  EXPECT_TRUE(again.applied.empty());
  EXPECT_EQ(again.already_applied, 1u);
}

// ---------------------------------------------------------------------------------------------
// Manifest errors: each mutation of a valid manifest must be refused with one line naming the
// file and the field, before anything is loaded.

struct ManifestCase {
  const char* name;
  const char* field;  // expected in the message as: field "<field>"
  std::function<void(json::object&)> mutate;
};

void PrintTo(const ManifestCase& c, std::ostream* os) { *os << c.name; }

class ManifestErrors : public ::testing::TestWithParam<ManifestCase> {};

TEST_P(ManifestErrors, AreOneLineNamingTheFileAndField) {
  const ManifestCase& c = GetParam();
  test::TempDir dir;
  fs::path bundle = dir / "bundle";
  fs::copy(kBundles / "good", bundle, fs::copy_options::recursive);
  json::value v = json::parse(read_text(bundle / "manifest.json"));
  c.mutate(v.as_object());
  {
    std::ofstream out(bundle / "manifest.json", std::ios::trunc);
    out << json::serialize(v);
  }
  Host h(/*seed=*/false);
  fs::path manifest = bundle / "manifest.json";
  try {
    load_plugin(manifest, h.shared);
    FAIL() << "accepted: " << json::serialize(v);
  } catch (const std::exception& e) {
    std::string what = e.what();
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    EXPECT_NE(what.find(manifest.string()), std::string::npos) << what;
    EXPECT_NE(what.find(std::string("field \"") + c.field + "\""), std::string::npos) << what;
  }
  EXPECT_FALSE(mapped(bundle / "libmdp_test_good.so"));
}

std::vector<ManifestCase> manifest_cases() {
  auto drop = [](const char* key) { return [key](json::object& o) { o.erase(key); }; };
  auto set = [](const char* key, json::value v) { return [key, v](json::object& o) { o[key] = v; }; };
  return {
      {"missing_id", "id", drop("id")},
      {"id_not_string", "id", set("id", 42)},
      {"id_with_slash", "id", set("id", "../evil")},
      {"id_uppercase", "id", set("id", "Api-Access")},
      {"missing_name", "name", drop("name")},
      {"empty_name", "name", set("name", "")},
      {"missing_version", "version", drop("version")},
      {"bad_version", "version", set("version", "one")},
      {"missing_abi", "host_interface_abi", drop("host_interface_abi")},
      {"abi_no_minor", "host_interface_abi", set("host_interface_abi", "1")},
      {"abi_number", "host_interface_abi", set("host_interface_abi", 1.0)},
      {"abi_other_major", "host_interface_abi", set("host_interface_abi", "1.0")},
      {"abi_newer_minor", "host_interface_abi", set("host_interface_abi", "2.99")},
      {"missing_library", "library", drop("library")},
      {"library_with_path", "library", set("library", "/usr/lib/libc.so")},
      {"library_absent", "library", set("library", "libnothere.so")},
      {"missing_entry_symbol", "entry_symbol", drop("entry_symbol")},
      {"entry_symbol_invalid", "entry_symbol", set("entry_symbol", "not a symbol")},
      {"entry_symbol_not_exported", "entry_symbol", set("entry_symbol", "mdp_no_such_factory")},
      {"missing_features", "features", drop("features")},
      {"features_not_array", "features", set("features", "api_access")},
      {"feature_not_object", "features[0]", set("features", json::array{"x"})},
      {"feature_missing_label", "features[0].label",
       [](json::object& o) { o["features"].as_array()[0].as_object().erase("label"); }},
      {"feature_tiers_not_array", "features[0].tiers",
       [](json::object& o) { o["features"].as_array()[0].as_object()["tiers"] = "enterprise"; }},
      {"feature_tier_not_string", "features[0].tiers[0]",
       [](json::object& o) { o["features"].as_array()[0].as_object()["tiers"] = json::array{1}; }},
      {"feature_missing_addon", "features[0].addon",
       [](json::object& o) { o["features"].as_array()[0].as_object().erase("addon"); }},
      {"missing_permissions", "permissions", drop("permissions")},
      {"permission_not_string", "permissions[0]", set("permissions", json::array{true})},
      {"name_too_long", "name", set("name", json::value(std::string(1001, 'x')))},
      {"version_too_long", "version", set("version", json::value("1.0.0-" + std::string(130, 'a')))},
      {"too_many_permissions", "permissions",
       [](json::object& o) {
         json::array a;
         for (int i = 0; i < 65; ++i) a.push_back(json::value("p" + std::to_string(i)));
         o["permissions"] = a;
       }},
      {"description_not_string", "description", set("description", 7)},
      {"feature_bad_id", "features[0].id",
       [](json::object& o) { o["features"].as_array()[0].as_object()["id"] = "Api Access"; }},
      {"feature_tier_repeated", "features[0].tiers[1]",
       [](json::object& o) { o["features"].as_array()[0].as_object()["tiers"] = json::array{"pro", "pro"}; }},
      {"feature_bad_addon", "features[0].addon",
       [](json::object& o) { o["features"].as_array()[0].as_object()["addon"] = "API-ACCESS"; }},
      {"feature_repeated", "features[1].id",
       [](json::object& o) { auto& a = o["features"].as_array(); a.push_back(a[0]); }},
      {"permission_repeated", "permissions[1]", set("permissions", json::array{"a.b", "a.b"})},
      {"missing_migrations", "migrations", drop("migrations")},
      {"migrations_not_object", "migrations", set("migrations", "sql")},
      {"migrations_missing_sqlite", "migrations.sqlite",
       [](json::object& o) { o["migrations"].as_object().erase("sqlite"); }},
      {"migrations_escape", "migrations.sqlite",
       [](json::object& o) { o["migrations"].as_object()["sqlite"] = "../../etc"; }},
      {"migrations_dot_segment", "migrations.postgresql",
       [](json::object& o) { o["migrations"].as_object()["postgresql"] = "sql/./pg"; }},
      {"migrations_absolute", "migrations.postgresql",
       [](json::object& o) { o["migrations"].as_object()["postgresql"] = "/sql"; }},
      {"migrations_folder_absent", "migrations.sqlite",
       [](json::object& o) { o["migrations"].as_object()["sqlite"] = "sql/nothere"; }},
  };
}

INSTANTIATE_TEST_SUITE_P(Loader, ManifestErrors, ::testing::ValuesIn(manifest_cases()),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(Loader, ManifestThatIsNotJsonIsOneLine) {
  test::TempDir dir;
  fs::path m = dir / "manifest.json";
  std::ofstream(m) << "{ \"id\": ";
  try {
    read_manifest(m);
    FAIL();
  } catch (const ManifestError& e) {
    std::string what = e.what();
    EXPECT_NE(what.find(m.string()), std::string::npos);
    EXPECT_NE(what.find("not valid JSON"), std::string::npos);
    EXPECT_EQ(what.find('\n'), std::string::npos);
  }
}

TEST(Loader, TheShippedManifestIsValid) {
  Manifest m = read_manifest(kApiAccessBundle / "manifest.json");
  EXPECT_EQ(m.id, "api-access");
  ASSERT_EQ(m.features.size(), 1u);
  EXPECT_EQ(m.features[0].id, "api_access");
  EXPECT_EQ(m.features[0].addon, "api_access");
}

// ---------------------------------------------------------------------------------------------
// The devhost itself: a broken bundle or an ABI mismatch is one stderr line and a non-zero exit.

std::vector<std::string> devhost_args(const test::TempDir& dir, const fs::path& plugins) {
  return {"--listen", "127.0.0.1:0", "--database", test::sqlite_database(dir), "--plugins",
          plugins.string()};
}

TEST(Devhost, ExitsWithOneLineOnABrokenManifest) {
  test::TempDir dir;
  fs::create_directories(dir / "plugins" / "broken");
  std::ofstream(dir / "plugins" / "broken" / "manifest.json") << R"({"id": "broken"})";
  auto r = test::DevhostProcess::run_to_exit(devhost_args(dir, dir / "plugins"));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_LT(r.exit_code, 128) << "crashed: " << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("field \"name\": is missing"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST(Devhost, ExitsWithOneLineOnAnAbiMismatch) {
  test::TempDir dir;
  fs::create_directories(dir / "plugins");
  fs::copy(kBundles / "abi99", dir / "plugins" / "abi99", fs::copy_options::recursive);
  auto r = test::DevhostProcess::run_to_exit(devhost_args(dir, dir / "plugins"));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("built for host interface 99.0"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST(Devhost, BadFlagsAreRefused) {
  auto r = test::DevhostProcess::run_to_exit({"--listen", "nonsense"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--listen"), std::string::npos);
  r = test::DevhostProcess::run_to_exit({"--database", "mysql:whatever"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--database"), std::string::npos);
}

}  // namespace
