#include "loader/manifest.hpp"

#include <fstream>
#include <sstream>

#include <boost/json.hpp>

#include "util/name_grammar.hpp"

namespace mdp::devhost {

namespace {

namespace json = boost::json;
using NameCheck = bool (*)(std::string_view) noexcept;

// Bounds on what a manifest may hold, so a huge or deeply nested file costs little to refuse.
constexpr std::size_t kMaxFileBytes = 64 * 1024;
constexpr std::size_t kMaxTextLength = 1000;  // name, label, description
constexpr std::size_t kMaxListLength = 64;    // features, tiers, permissions

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
                     NameCheck pattern = nullptr, const char* pattern_text = nullptr,
                     bool allow_empty = false) const {
    const json::value& v = required(o, prefix, key);
    if (!v.is_string()) fail(prefix + key, "must be a string, got " + shown(v));
    std::string s(v.get_string());
    if (s.empty() && !allow_empty) fail(prefix + key, "must not be empty");
    if (s.size() > kMaxTextLength)
      fail(prefix + key, "must be at most " + std::to_string(kMaxTextLength) + " characters");
    if (!s.empty() && pattern != nullptr && !pattern(s))
      fail(prefix + key, std::string("must be ") + pattern_text + ", got " + shown(v));
    return s;
  }

  std::vector<std::string> strings(const json::object& o, const std::string& prefix,
                                   const char* key, NameCheck pattern,
                                   const char* pattern_text) const {
    const json::value& v = required(o, prefix, key);
    if (!v.is_array()) fail(prefix + key, "must be an array of strings, got " + shown(v));
    std::vector<std::string> out;
    const json::array& a = v.get_array();
    if (a.size() > kMaxListLength)
      fail(prefix + key, "must hold at most " + std::to_string(kMaxListLength) + " entries");
    for (std::size_t i = 0; i < a.size(); ++i) {
      std::string field = prefix + key + "[" + std::to_string(i) + "]";
      if (!a[i].is_string()) fail(field, "must be a string, got " + shown(a[i]));
      std::string s(a[i].get_string());
      if (!pattern(s))
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
  std::ifstream in(file, std::ios::binary);
  if (!in) throw ManifestError(file.string() + ": cannot be read (missing or no permission)");
  std::string text(kMaxFileBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  return parse_manifest(text, file);
}

Manifest parse_manifest(std::string_view text, const std::filesystem::path& file) {
  Checker c{file.string()};
  if (text.size() > kMaxFileBytes)
    throw ManifestError(c.file + ": is larger than " + std::to_string(kMaxFileBytes / 1024) + " KiB");
  json::error_code ec;
  // A manifest nests three levels; the default depth limit (32) bounds the parser's recursion.
  json::value root = json::parse(text, ec);
  if (ec) throw ManifestError(c.file + ": is not valid JSON (" + ec.message() + ")");
  if (!root.is_object()) throw ManifestError(c.file + ": must hold a JSON object");
  const json::object& o = root.get_object();
  namespace g = grammar;

  Manifest m;
  m.file = file;
  m.bundle_dir = file.parent_path();
  m.id = c.string(o, "", "id", &g::plugin_id, "lowercase letters, digits and '-' (e.g. \"api-access\")");
  m.name = c.string(o, "", "name");
  m.version = c.string(o, "", "version", &g::semantic_version, "MAJOR.MINOR.PATCH");
  if (const json::value* d = o.if_contains("description")) {
    if (!d->is_string()) c.fail("description", "must be a string, got " + Checker::shown(*d));
    if (d->get_string().size() > kMaxTextLength)
      c.fail("description", "must be at most " + std::to_string(kMaxTextLength) + " characters");
    m.description = std::string(d->get_string());
  }
  const char* abi_text = "\"MAJOR.MINOR\" (e.g. \"2.0\")";
  std::string abi = c.string(o, "", "host_interface_abi", nullptr, abi_text);
  unsigned major = 0, minor = 0;
  if (!g::abi_version(abi, major, minor))
    c.fail("host_interface_abi", std::string("must be ") + abi_text + ", got " + Checker::shown(json::value(abi)));
  m.abi_major = major;
  m.abi_minor = minor;
  m.library = c.string(o, "", "library", &g::library_file,
                       "a file name in the bundle folder ending in .so (no path)");
  m.entry_symbol = c.string(o, "", "entry_symbol", &g::c_identifier, "a C identifier");

  const json::value& features = c.required(o, "", "features");
  if (!features.is_array()) c.fail("features", "must be an array, got " + Checker::shown(features));
  const json::array& fa = features.get_array();
  if (fa.size() > kMaxListLength)
    c.fail("features", "must hold at most " + std::to_string(kMaxListLength) + " entries");
  for (std::size_t i = 0; i < fa.size(); ++i) {
    std::string prefix = "features[" + std::to_string(i) + "].";
    if (!fa[i].is_object())
      c.fail("features[" + std::to_string(i) + "]", "must be an object, got " + Checker::shown(fa[i]));
    const json::object& fo = fa[i].get_object();
    ManifestFeature f;
    f.id = c.string(fo, prefix, "id", &g::feature_id, "lowercase letters, digits and '_'");
    f.label = c.string(fo, prefix, "label");
    f.tiers = c.strings(fo, prefix, "tiers", &g::tier_name, "a tier name like \"enterprise\"");
    f.addon = c.string(fo, prefix, "addon", &g::feature_id, "lowercase letters, digits and '_'",
                       /*allow_empty=*/true);
    for (const auto& seen : m.features)
      if (seen.id == f.id) c.fail(prefix + "id", "repeats feature \"" + f.id + "\"");
    m.features.push_back(std::move(f));
  }
  m.permissions = c.strings(o, "", "permissions", &g::permission_name,
                            "a dotted lowercase name like \"api_keys.manage\"");

  const json::value& mig = c.required(o, "", "migrations");
  if (!mig.is_object()) c.fail("migrations", "must be an object {\"sqlite\",\"postgresql\"}, got " + Checker::shown(mig));
  const char* rel = "a relative folder inside the bundle (e.g. \"sql/sqlite\")";
  m.migrations_sqlite = c.string(mig.get_object(), "migrations.", "sqlite", &g::relative_folder, rel);
  m.migrations_postgresql = c.string(mig.get_object(), "migrations.", "postgresql", &g::relative_folder, rel);
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
