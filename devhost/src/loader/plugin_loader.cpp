#include "loader/plugin_loader.hpp"

#include <algorithm>
#include <set>

#include <boost/dll/import.hpp>
#include <boost/dll/shared_library.hpp>

#include "mdp/host/sdk/migrations.hpp"
#include "util/name_grammar.hpp"

namespace mdp::devhost {

struct LibraryHandle {
  boost::dll::shared_library library;
};

namespace {

// Wraps a value whose code lives in the plugin so that it also owns the library, and is
// destroyed before it (members go in reverse order: value first, then library).
template <class T>
struct Pinned {
  std::shared_ptr<LibraryHandle> library;
  T value;
};

template <class T>
std::shared_ptr<T> pin_shared(std::shared_ptr<LibraryHandle> lib, std::shared_ptr<T> p) {
  if (!p) return nullptr;
  auto holder = std::make_shared<Pinned<std::shared_ptr<T>>>(
      Pinned<std::shared_ptr<T>>{std::move(lib), std::move(p)});
  T* raw = holder->value.get();
  return std::shared_ptr<T>(std::move(holder), raw);  // aliasing: owns holder, points at T
}

template <class R, class... A>
std::function<R(A...)> pin_function(std::shared_ptr<LibraryHandle> lib, std::function<R(A...)> f) {
  auto holder = std::make_shared<Pinned<std::function<R(A...)>>>(
      Pinned<std::function<R(A...)>>{std::move(lib), std::move(f)});
  return [holder](A... args) -> R { return holder->value(std::forward<A>(args)...); };
}

bool valid_pattern(const std::string& p) { return grammar::route_pattern(p); }
bool valid_page_path(const std::string& p) { return grammar::page_path(p); }

// Collects registrations during on_load and records every problem; valid only during on_load.
class CollectingRegistrar final : public host::Registrar {
 public:
  explicit CollectingRegistrar(const Manifest& m) : manifest_(m) {}

  void add_feature(host::FeatureSpec f) noexcept override {
    try {
      auto declared = std::find_if(manifest_.features.begin(), manifest_.features.end(),
                                   [&](const ManifestFeature& mf) { return mf.id == f.id; });
      if (declared == manifest_.features.end())
        return problem("registered feature \"" + f.id + "\" that manifest.json does not declare");
      for (const auto& seen : features)
        if (seen.id == f.id) return problem("registered feature \"" + f.id + "\" twice");
      if (declared->tiers != f.tiers || declared->addon != f.addon)
        return problem("feature \"" + f.id + "\" differs from its manifest.json declaration (tiers/addon)");
      features.push_back(std::move(f));
    } catch (...) {
      problem("out of memory");
    }
  }

  void add_route(host::RouteSpec r) noexcept override {
    try {
      static const std::set<std::string> methods{"GET", "POST", "PUT", "PATCH", "DELETE"};
      std::string what = r.method + " " + r.pattern;
      if (methods.count(r.method) == 0) return problem("route " + what + ": unknown method");
      if (!valid_pattern(r.pattern)) return problem("route " + what + ": invalid pattern");
      if (!r.handler) return problem("route " + what + ": no handler");
      // "public" (since 2.1) is the host's marker for a route without a session, not a
      // permission a manifest declares or a role holds.
      if (r.permission != host::kPublicPermission && !declared_permission(r.permission))
        return problem("route " + what + ": permission \"" + r.permission + "\" is not in manifest.json");
      for (const auto& seen : routes)
        if (seen.method == r.method && seen.pattern == r.pattern)
          return problem("route " + what + " registered twice");
      routes.push_back(std::move(r));
    } catch (...) {
      problem("out of memory");
    }
  }

  void add_settings_page(host::PageSpec p) noexcept override {
    try {
      if (p.id.empty() || p.title.empty() || p.section.empty())
        return problem("settings page \"" + p.id + "\": id, section and title are required");
      if (!valid_page_path(p.path) || p.path == "billing")
        return problem("settings page \"" + p.id + "\": invalid path \"" + p.path + "\"");
      if (!p.view_model) return problem("settings page \"" + p.id + "\": no view_model");
      if (!declared_permission(p.permission))
        return problem("settings page \"" + p.id + "\": permission \"" + p.permission + "\" is not in manifest.json");
      for (const auto& seen : pages)
        if (seen.id == p.id || seen.path == p.path)
          return problem("settings page \"" + p.id + "\" (" + p.path + ") registered twice");
      pages.push_back(std::move(p));
    } catch (...) {
      problem("out of memory");
    }
  }

  void set_api_hook(std::shared_ptr<host::ApiHook> h) noexcept override {
    if (!h) return problem("set_api_hook(nullptr)");
    if (hook) return problem("set_api_hook called twice");
    hook = std::move(h);
  }

  std::vector<host::FeatureSpec> features;
  std::vector<host::RouteSpec> routes;
  std::vector<host::PageSpec> pages;
  std::shared_ptr<host::ApiHook> hook;
  std::vector<std::string> problems;

 private:
  bool declared_permission(const std::string& p) const {
    return p.empty() ||
           std::find(manifest_.permissions.begin(), manifest_.permissions.end(), p) !=
               manifest_.permissions.end();
  }
  void problem(std::string why) noexcept {
    try {
      problems.push_back(std::move(why));
    } catch (...) {
    }
  }
  const Manifest& manifest_;
};

}  // namespace

LoadedPlugin::~LoadedPlugin() {
  // Registrations and the plugin before the library (member order already ensures it; spelled
  // out because it is the one thing here that must never change).
  pages_.clear();
  routes_.clear();
  features_.clear();
  hook_.reset();
  plugin_.reset();
  services_.reset();
  library_.reset();
}

void LoadedPlugin::stop() noexcept {
  if (stopped_ || !plugin_) return;
  stopped_ = true;
  plugin_->on_stop();
}

std::shared_ptr<LoadedPlugin> load_plugin(const std::filesystem::path& manifest_file,
                                          SharedServices& shared) {
  namespace fs = std::filesystem;
  std::shared_ptr<LoadedPlugin> loaded(new LoadedPlugin());
  loaded->manifest_ = read_manifest(fs::absolute(manifest_file));
  const Manifest& m = loaded->manifest_;
  const std::string mfile = m.file.string();

  if (m.abi_major != host::kAbiMajor || m.abi_minor > host::kAbiMinor)
    throw LoadError(mfile + ": field \"host_interface_abi\": plugin needs host interface " +
                    std::to_string(m.abi_major) + "." + std::to_string(m.abi_minor) +
                    ", this host provides " + std::to_string(host::kAbiMajor) + "." +
                    std::to_string(host::kAbiMinor));
  fs::path lib_path = m.bundle_dir / m.library;
  std::error_code ec;
  if (!fs::is_regular_file(lib_path, ec))
    throw LoadError(mfile + ": field \"library\": file " + lib_path.string() + " does not exist");
  fs::path mig_dir = m.bundle_dir / (shared.database.dialect() == host::Dialect::sqlite
                                         ? m.migrations_sqlite
                                         : m.migrations_postgresql);
  const char* mig_field = shared.database.dialect() == host::Dialect::sqlite
                              ? "migrations.sqlite"
                              : "migrations.postgresql";
  if (!fs::is_directory(mig_dir, ec))
    throw LoadError(mfile + ": field \"" + mig_field + "\": folder " + mig_dir.string() +
                    " does not exist");
  loaded->library_path_ = lib_path;

  auto handle = std::make_shared<LibraryHandle>();
  try {
    // Full path and no append_decorations (which would try libx.so.so first); rtld_now so a
    // missing symbol fails here rather than mid-request.
    handle->library.load(lib_path.string(), boost::dll::load_mode::rtld_now |
                                                boost::dll::load_mode::rtld_local);
  } catch (const std::exception& e) {
    throw LoadError(lib_path.string() + ": cannot be loaded: " + e.what());
  }
  if (!handle->library.has(host::kAbiSymbol))
    throw LoadError(lib_path.string() + ": does not export " + host::kAbiSymbol +
                    " (not a plugin for this host)");
  // A plain C function: safe to call whatever version the plugin was built for.
  using AbiFn = std::uint32_t();
  std::uint32_t abi = handle->library.get<AbiFn>(host::kAbiSymbol)();
  if (host::abi_major(abi) != host::kAbiMajor || host::abi_minor(abi) > host::kAbiMinor)
    throw LoadError(lib_path.string() + ": built for host interface " +
                    std::to_string(host::abi_major(abi)) + "." + std::to_string(host::abi_minor(abi)) +
                    ", this host provides " + std::to_string(host::kAbiMajor) + "." +
                    std::to_string(host::kAbiMinor) + "; refused");
  loaded->abi_minor_ = host::abi_minor(abi);  // what the host may call (e.g. on_api_records: 2.1)
  // The toolchain behind the C++ types that cross (string ABI, compiler, SOCI): also plain C.
  if (!handle->library.has(host::kBuildSymbol))
    throw LoadError(lib_path.string() + ": does not export " + host::kBuildSymbol +
                    " (built against host interface headers older than 2.0); refused");
  using BuildFn = const mdp_plugin_build_info*();
  const mdp_plugin_build_info* build = handle->library.get<BuildFn>(host::kBuildSymbol)();
  std::string differs = build == nullptr ? std::string("no build description")
                                         : host::build_mismatch(*build, host::this_build());
  if (!differs.empty())
    throw LoadError(lib_path.string() + ": built with another toolchain than this host: " +
                    differs + "; refused");
  if (!handle->library.has(m.entry_symbol))
    throw LoadError(mfile + ": field \"entry_symbol\": " + lib_path.string() + " does not export \"" +
                    m.entry_symbol + "\"");

  host::sdk::apply_migrations(shared.database, m.id, mig_dir);

  std::shared_ptr<host::Plugin> plugin;
  {
    // The creator import_alias returns holds its own copy of the library; it is dropped at the
    // end of this block, and from then on only `handle` keeps the library loaded.
    auto factory = boost::dll::import_alias<host::PluginFactory>(handle->library, m.entry_symbol);
    plugin = factory();
  }
  if (!plugin) throw LoadError(lib_path.string() + ": the factory \"" + m.entry_symbol + "\" returned nothing");
  loaded->library_ = handle;
  loaded->plugin_ = pin_shared(handle, std::move(plugin));
  loaded->services_ = std::make_unique<PluginServices>(shared, m.id);

  host::LoadResult result;
  std::vector<std::string> problems;
  {
    CollectingRegistrar registrar(m);
    result = loaded->plugin_->on_load(*loaded->services_, registrar);
    problems = std::move(registrar.problems);
    if (result.ok && problems.empty()) {
      loaded->features_ = std::move(registrar.features);
      loaded->hook_ = pin_shared(handle, std::move(registrar.hook));
      for (auto& r : registrar.routes) {
        r.handler = pin_function(handle, std::move(r.handler));
        loaded->routes_.push_back(std::move(r));
      }
      for (auto& p : registrar.pages) {
        p.view_model = pin_function(handle, std::move(p.view_model));
        loaded->pages_.push_back(std::move(p));
      }
    }
    // Anything left in the registrar (on refusal) is destroyed here, while `handle` still
    // holds the library.
  }
  if (!result.ok) {
    loaded->stopped_ = true;  // never started: no on_stop
    throw LoadError(mfile + ": plugin \"" + m.id + "\" refused to load: " + result.message);
  }
  if (!problems.empty()) {
    loaded->stop();
    std::string all;
    for (const auto& p : problems) all += (all.empty() ? "" : "; ") + p;
    throw LoadError(mfile + ": plugin \"" + m.id + "\" registered invalid things: " + all);
  }
  for (const auto& f : loaded->features_) shared.features.add(f);
  shared.permissions.declare(m.permissions);
  return loaded;
}

std::vector<std::filesystem::path> find_manifests(const std::filesystem::path& plugins_dir) {
  namespace fs = std::filesystem;
  std::vector<fs::path> out;
  std::error_code ec;
  if (!fs::is_directory(plugins_dir, ec)) return out;
  for (const auto& entry : fs::directory_iterator(plugins_dir, ec)) {
    fs::path candidate = entry.path() / "manifest.json";
    if (entry.is_directory() && fs::exists(candidate)) out.push_back(candidate);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace mdp::devhost
