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
//        on_subscription_changed(kEveryClinic) and its delivery to every host process.
#pragma once

#include <cstdint>

#include <boost/config.hpp>

namespace mdp::host {

inline constexpr std::uint32_t kAbiMajor = 2;
inline constexpr std::uint32_t kAbiMinor = 0;

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

}  // namespace mdp::host

// Exported from a plugin: `MDP_PLUGIN_EXPORT_ABI()` at namespace scope in exactly one file.
#define MDP_PLUGIN_EXPORT_ABI()                                                   \
  extern "C" BOOST_SYMBOL_EXPORT std::uint32_t mdp_plugin_abi() noexcept {        \
    return ::mdp::host::pack_abi(::mdp::host::kAbiMajor, ::mdp::host::kAbiMinor); \
  }
