// The version of the host/plugin contract, and the symbols every plugin exports.
//
// Who owns this file: the host_interface maintainers. A change that breaks a plugin built
// against the previous headers (a removed or reordered virtual, a changed struct layout) bumps
// kAbiMajor; a purely additive change (a new virtual at the END of a class, a new free function)
// bumps kAbiMinor. The host refuses a plugin whose major differs from its own, or whose minor is
// newer than its own, and never calls into such a plugin beyond mdp_plugin_abi().
//
// History:
//   1.0  first contract.
//   2.0  failure model: Lookup<T> answers (found / not_found / unavailable) for Directory and
//        Subscriptions; Settings; ApiRequest::client_address; ApiDecision::retry_after;
//        on_subscription_changed(kEveryClinic) and its delivery to every host process;
//        mdp_plugin_build(): the toolchain check below.
//   2.1  HostServices::metrics(): counters, gauges and histograms a plugin declares at load and
//        the host exports (services.hpp, "Metrics"); ApiRequest::add_response_header (headers
//        on every answer of the public API); RouteSpec permission kPublicPermission (routes
//        without a session) and the client address in RouteRequest::params (kClientAddressParam);
//        HostServices::notifications() (messages to a clinic's admins, in the app and by
//        e-mail); ApiHook::on_api_records (which records a request read or changed, for
//        disclosure accounting; called only on plugins built for 2.1 or later).
//
// Why a toolchain check: std::string, std::function, std::shared_ptr, std::optional, chrono
// types and soci::session* cross this boundary by value or by reference, so a plugin and a host
// must agree on more than these headers: the standard library's string ABI
// (_GLIBCXX_USE_CXX11_ABI), the compiler (family and major version: the C++ standard library
// ships with it) and the SOCI release (soci::session's layout). mdp_plugin_build() returns a
// plain C struct describing the plugin's build; the host compares it with its own
// (mdp::host::this_build()) before any C++ type crosses, and refuses with one line naming
// every difference (build_mismatch()).
#pragma once

#include <cstdint>
#include <string>

#include <boost/config.hpp>
#include <soci/version.h>

namespace mdp::host {

inline constexpr std::uint32_t kAbiMajor = 2;
inline constexpr std::uint32_t kAbiMinor = 1;

// Packs a version as major << 16 | minor, the form mdp_plugin_abi() returns.
constexpr std::uint32_t pack_abi(std::uint32_t major, std::uint32_t minor) {
  return (major << 16) | (minor & 0xffffu);
}
constexpr std::uint32_t abi_major(std::uint32_t packed) { return packed >> 16; }
constexpr std::uint32_t abi_minor(std::uint32_t packed) { return packed & 0xffffu; }

// The plain C symbol every plugin exports next to its factory. The host resolves it with
// Boost.DLL (import_symbol) before anything else, so a mismatched plugin is refused before any
// C++ type crosses the boundary.
inline constexpr const char* kAbiSymbol = "mdp_plugin_abi";

// The second plain C symbol (since 2.0): `const mdp_plugin_build_info* mdp_plugin_build()`.
inline constexpr const char* kBuildSymbol = "mdp_plugin_build";

}  // namespace mdp::host

// What a binary was built with, as plain C data: the host reads it through a C function before
// any C++ type crosses, so its layout never changes. New fields are only ever appended, and
// `size` tells the reader how many the plugin filled in.
extern "C" {
struct mdp_plugin_build_info {
  std::uint32_t size;              // sizeof(mdp_plugin_build_info) of the plugin's headers
  std::uint32_t abi;               // pack_abi(kAbiMajor, kAbiMinor), as mdp_plugin_abi() says
  std::uint32_t string_abi;        // _GLIBCXX_USE_CXX11_ABI (0 or 1); 2 without libstdc++
  std::uint32_t compiler_family;   // mdp::host::CompilerFamily
  std::uint32_t compiler_major;    // e.g. 12 for g++ 12.2
  std::uint32_t soci_version;      // SOCI_VERSION, e.g. 400003 for 4.0.3
};
}

namespace mdp::host {

enum class CompilerFamily : std::uint32_t { other = 0, gcc = 1, clang = 2 };

// The build of the translation unit that calls it: constant, computed by the compiler.
constexpr mdp_plugin_build_info this_build() noexcept {
  mdp_plugin_build_info b{};
  b.size = sizeof(mdp_plugin_build_info);
  b.abi = pack_abi(kAbiMajor, kAbiMinor);
#if defined(_GLIBCXX_USE_CXX11_ABI)
  b.string_abi = _GLIBCXX_USE_CXX11_ABI;
#else
  b.string_abi = 2;
#endif
#if defined(__clang__)
  b.compiler_family = static_cast<std::uint32_t>(CompilerFamily::clang);
  b.compiler_major = __clang_major__;
#elif defined(__GNUC__)
  b.compiler_family = static_cast<std::uint32_t>(CompilerFamily::gcc);
  b.compiler_major = __GNUC__;
#else
  b.compiler_family = static_cast<std::uint32_t>(CompilerFamily::other);
  b.compiler_major = 0;
#endif
  b.soci_version = SOCI_VERSION;
  return b;
}

inline std::string describe_compiler(std::uint32_t family, std::uint32_t major) {
  switch (static_cast<CompilerFamily>(family)) {
    case CompilerFamily::gcc: return "g++ " + std::to_string(major);
    case CompilerFamily::clang: return "clang++ " + std::to_string(major);
    default: return "another compiler (family " + std::to_string(family) + ", major " +
                    std::to_string(major) + ")";
  }
}

inline std::string describe_soci(std::uint32_t v) {
  return std::to_string(v / 100000) + "." + std::to_string(v / 100 % 1000) + "." +
         std::to_string(v % 100);
}

// Empty when a plugin built as `plugin` may be loaded by a host built as `host`; otherwise one
// line naming every difference, e.g.
//   "standard library string ABI: plugin _GLIBCXX_USE_CXX11_ABI=0, host 1; SOCI: plugin 4.1.0,
//    host 4.0.3"
// The interface version (the `abi` field) is not compared here: the host checks it first,
// through mdp_plugin_abi(), with the major/minor rule at the top of this file.
inline std::string build_mismatch(const mdp_plugin_build_info& plugin,
                                  const mdp_plugin_build_info& host) {
  std::string out;
  auto add = [&out](const std::string& what) { out += (out.empty() ? "" : "; ") + what; };
  if (plugin.size < sizeof(mdp_plugin_build_info)) {
    add("build description too short (" + std::to_string(plugin.size) + " bytes, need " +
        std::to_string(sizeof(mdp_plugin_build_info)) + ")");
    return out;
  }
  if (plugin.string_abi != host.string_abi)
    add("standard library string ABI: plugin _GLIBCXX_USE_CXX11_ABI=" +
        std::to_string(plugin.string_abi) + ", host " + std::to_string(host.string_abi));
  if (plugin.compiler_family != host.compiler_family || plugin.compiler_major != host.compiler_major)
    add("compiler: plugin " + describe_compiler(plugin.compiler_family, plugin.compiler_major) +
        ", host " + describe_compiler(host.compiler_family, host.compiler_major));
  if (plugin.soci_version != host.soci_version)
    add("SOCI: plugin " + describe_soci(plugin.soci_version) + ", host " +
        describe_soci(host.soci_version));
  return out;
}

}  // namespace mdp::host

// Exported from a plugin: `MDP_PLUGIN_EXPORT_ABI()` at namespace scope in exactly one file.
// Both functions only return constants: no code of the plugin runs while the host checks them.
#define MDP_PLUGIN_EXPORT_ABI()                                                          \
  extern "C" BOOST_SYMBOL_EXPORT std::uint32_t mdp_plugin_abi() noexcept {               \
    return ::mdp::host::pack_abi(::mdp::host::kAbiMajor, ::mdp::host::kAbiMinor);        \
  }                                                                                      \
  extern "C" BOOST_SYMBOL_EXPORT const mdp_plugin_build_info* mdp_plugin_build() noexcept { \
    static constexpr mdp_plugin_build_info kBuild = ::mdp::host::this_build();           \
    return &kBuild;                                                                      \
  }
