// manifest.json, read and validated field by field before anything of the plugin is loaded.
// Owned by the devhost loader. Every refusal is ONE line naming the file and the field, e.g.
//   /srv/plugins/api-access/manifest.json: field "host_interface_abi": must be "MAJOR.MINOR", got "1"
#pragma once

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace mdp::devhost {

class ManifestError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ManifestFeature {
  std::string id;
  std::string label;
  std::vector<std::string> tiers;
  std::string addon;  // empty: no addon unlocks it
};

struct Manifest {
  std::filesystem::path file;        // the manifest.json read
  std::filesystem::path bundle_dir;  // its folder; library and migrations are relative to it
  std::string id;                    // [a-z0-9][a-z0-9-]*, used in URLs (/plugins/<id>/)
  std::string name;
  std::string version;               // MAJOR.MINOR.PATCH[-suffix]
  std::string description;           // optional
  std::uint32_t abi_major = 0;
  std::uint32_t abi_minor = 0;
  std::string library;               // a file name inside bundle_dir
  std::string entry_symbol;          // a C identifier exported with BOOST_DLL_ALIAS
  std::vector<ManifestFeature> features;
  std::vector<std::string> permissions;
  std::string migrations_sqlite;     // folders relative to bundle_dir
  std::string migrations_postgresql;
};

// Reads and validates `file`. Throws ManifestError (one line) on the first problem found.
Manifest read_manifest(const std::filesystem::path& file);
// The same checks on a manifest's text (at most 64 KiB); `file` names it in messages and gives
// the bundle folder.
Manifest parse_manifest(std::string_view text, const std::filesystem::path& file);

}  // namespace mdp::devhost
