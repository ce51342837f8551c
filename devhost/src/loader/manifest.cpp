#include "loader/manifest.hpp"

#include <fstream>
#include <regex>
#include <sstream>

#include <boost/json.hpp>

namespace mdp::devhost {

namespace {

namespace json = boost::json;

// Collects the file name so every message has the same one-line shape.
struct Checker {
  std::string file;

  [[noreturn]] void fail(const std::string& field, const std::string& why) const {
    throw ManifestError(file + ": field \"" + field + "\": " + why);
  }

  static std::string shown(const json::value& v) {
    std::string s = json::serialize(v);
    if (s.size() > 60) s = s.substr(0, 57) + "...";
    return s;
  }

  const json::value& required(const json::object& o, const std::string& prefix,
                              const char* key) const {
    const json::value* v = o.if_contains(key);
    if (v == nullptr) fail(prefix + key, "is missing");
    return *v;
  }

  std::string string(const json::object& o, const std::string& prefix, const char* key,
                     const std::regex* pattern = nullptr, const char* pattern_text = nullptr,
                     bool allow_empty = false) const {
    const json::value& v = required(o, prefix, key);
    if (!v.is_string()) fail(prefix + key, "must be a string, got " + shown(v));
    std::string s(v.get_string());
    if (s.empty() && !allow_empty) fail(prefix + key, "must not be empty");
    if (!s.empty() && pattern != nullptr && !std::regex_match(s, *pattern))
      fail(prefix + key, std::string("must be ") + pattern_text + ", got " + shown(v));
    return s;
  }

  std::vector<std::string> strings(const json::object& o, const std::string& prefix,
                                   const char* key, const std::regex& pattern,
                                   const char* pattern_text) const {
    const json::value& v = required(o, prefix, key);
    if (!v.is_array()) fail(prefix + key, "must be an array of strings, got " + shown(v));
    std::vector<std::string> out;
    const json::array& a = v.get_array();
    for (std::size_t i = 0; i < a.size(); ++i) {
      std::string field = prefix + key + "[" + std::to_string(i) + "]";
      if (!a[i].is_string()) fail(field, "must be a string, got " + shown(a[i]));
      std::string s(a[i].get_string());
      if (!std::regex_match(s, pattern))
        fail(field, std::string("must be ") + pattern_text + ", got " + shown(a[i]));
      for (const auto& seen : out)
        if (seen == s) fail(field, "repeats \"" + s + "\"");
      out.push_back(std::move(s));
    }
    return out;
  }
};

}  // namespace

Manifest read_manifest(const std::filesystem::path& file) {
  Checker c{file.string()};
  std::ifstream in(file, std::ios::binary);
  if (!in) throw ManifestError(c.file + ": cannot be read (missing or no permission)");
  std::ostringstream buf;
  buf << in.rdbuf();

  json::error_code ec;
  json::value root = json::parse(buf.str(), ec);
  if (ec) throw ManifestError(c.file + ": is not valid JSON (" + ec.message() + ")");
  if (!root.is_object()) throw ManifestError(c.file + ": must hold a JSON object");
  const json::object& o = root.get_object();

  static const std::regex id_re("[a-z0-9][a-z0-9-]{0,63}");
  static const std::regex version_re(R"([0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.+-]+)?)");
  static const std::regex abi_re(R"(([0-9]{1,5})\.([0-9]{1,5}))");
  static const std::regex library_re(R"([A-Za-z0-9_.+-]+\.so(\.[0-9]+)*)");
  static const std::regex symbol_re("[A-Za-z_][A-Za-z0-9_]{0,127}");
  static const std::regex feature_id_re("[a-z0-9_]{1,64}");
  static const std::regex tier_re("[a-z0-9_-]{1,64}");
  static const std::regex permission_re(R"([a-z0-9_]+(\.[a-z0-9_]+)*)");
  static const std::regex rel_dir_re(R"([A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*)");

  Manifest m;
  m.file = file;
  m.bundle_dir = file.parent_path();
  m.id = c.string(o, "", "id", &id_re, "lowercase letters, digits and '-' (e.g. \"api-access\")");
  m.name = c.string(o, "", "name");
  m.version = c.string(o, "", "version", &version_re, "MAJOR.MINOR.PATCH");
  if (const json::value* d = o.if_contains("description")) {
    if (!d->is_string()) c.fail("description", "must be a string, got " + Checker::shown(*d));
    m.description = std::string(d->get_string());
  }
  std::string abi = c.string(o, "", "host_interface_abi", &abi_re, "\"MAJOR.MINOR\" (e.g. \"2.0\")");
  std::smatch am;
  std::regex_match(abi, am, abi_re);
  m.abi_major = static_cast<std::uint32_t>(std::stoul(am[1].str()));
  m.abi_minor = static_cast<std::uint32_t>(std::stoul(am[2].str()));
  m.library = c.string(o, "", "library", &library_re,
                       "a file name in the bundle folder ending in .so (no path)");
  m.entry_symbol = c.string(o, "", "entry_symbol", &symbol_re, "a C identifier");

  const json::value& features = c.required(o, "", "features");
  if (!features.is_array()) c.fail("features", "must be an array, got " + Checker::shown(features));
  const json::array& fa = features.get_array();
  for (std::size_t i = 0; i < fa.size(); ++i) {
    std::string prefix = "features[" + std::to_string(i) + "].";
    if (!fa[i].is_object())
      c.fail("features[" + std::to_string(i) + "]", "must be an object, got " + Checker::shown(fa[i]));
    const json::object& fo = fa[i].get_object();
    ManifestFeature f;
    f.id = c.string(fo, prefix, "id", &feature_id_re, "lowercase letters, digits and '_'");
    f.label = c.string(fo, prefix, "label");
    f.tiers = c.strings(fo, prefix, "tiers", tier_re, "a tier name like \"enterprise\"");
    f.addon = c.string(fo, prefix, "addon", &feature_id_re, "lowercase letters, digits and '_'",
                       /*allow_empty=*/true);
    for (const auto& seen : m.features)
      if (seen.id == f.id) c.fail(prefix + "id", "repeats feature \"" + f.id + "\"");
    m.features.push_back(std::move(f));
  }
  m.permissions = c.strings(o, "", "permissions", permission_re,
                            "a dotted lowercase name like \"api_keys.manage\"");

  const json::value& mig = c.required(o, "", "migrations");
  if (!mig.is_object()) c.fail("migrations", "must be an object {\"sqlite\",\"postgresql\"}, got " + Checker::shown(mig));
  const char* rel = "a relative folder inside the bundle (e.g. \"sql/sqlite\")";
  m.migrations_sqlite = c.string(mig.get_object(), "migrations.", "sqlite", &rel_dir_re, rel);
  m.migrations_postgresql = c.string(mig.get_object(), "migrations.", "postgresql", &rel_dir_re, rel);
  for (const auto* dir : {&m.migrations_sqlite, &m.migrations_postgresql}) {
    std::string field = dir == &m.migrations_sqlite ? "migrations.sqlite" : "migrations.postgresql";
    for (std::size_t pos = 0; pos <= dir->size();) {
      std::size_t end = dir->find('/', pos);
      if (end == std::string::npos) end = dir->size();
      std::string seg = dir->substr(pos, end - pos);
      if (seg == ".." || seg == ".") c.fail(field, std::string("must be ") + rel + ", got \"" + *dir + "\"");
      pos = end + 1;
    }
  }
  return m;
}

}  // namespace mdp::devhost
