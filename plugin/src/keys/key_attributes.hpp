// What an admin sets on a key that the request hook enforces besides its scopes: a rate limit
// and the client addresses the key may be used from. Parsed and checked here once (admin routes,
// cache loads), so the hook only compares numbers.
//
// Owned by the keys code; read by the routes (validation), the store (columns) and the request
// hook's cache (auth/key_cache.hpp).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mdp::api_access {

// At most `requests` requests in any `per_seconds` window. Absent on a key: the plan's default.
struct RateLimit {
  std::uint32_t requests = 0;
  std::uint32_t per_seconds = 0;
  bool operator==(const RateLimit&) const = default;

  static constexpr std::uint32_t kMaxRequests = 1'000'000;
  static constexpr std::uint32_t kMaxPerSeconds = 86'400;  // one day
};

// One IPv4 or IPv6 network. IPv4 is held as its IPv4-mapped IPv6 form (::ffff:a.b.c.d/96+n), so
// one comparison serves both families and an IPv4 client reaching an IPv6 socket still matches.
struct IpNetwork {
  std::array<std::uint8_t, 16> address{};  // host bits zero
  std::uint8_t prefix = 0;                 // 0..128, over the 16 bytes
  bool v4 = false;                         // written as IPv4 by the admin
  bool operator==(const IpNetwork&) const = default;
};

// The networks a key may be used from; empty: anywhere.
class AddressFilter {
 public:
  static constexpr std::size_t kMaxNetworks = 32;

  // Parses CIDRs ("203.0.113.0/24", "2001:db8::/32") or single addresses ("203.0.113.7" is
  // /32, "2001:db8::1" is /128). Host bits set below the prefix ("10.0.0.1/8") are refused: the
  // admin most likely meant something else. nullopt with `error` set when one entry is invalid,
  // there are too many, or one repeats.
  static std::optional<AddressFilter> parse(const std::vector<std::string>& entries,
                                            std::string& error);
  // The stored form: canonical CIDRs separated by spaces ('' = anywhere). A stored value that
  // no longer parses (edited by hand) yields a filter that allows nothing: fail closed.
  static AddressFilter from_stored(std::string_view stored);
  std::string to_stored() const;
  std::vector<std::string> to_strings() const;  // canonical, e.g. "203.0.113.0/24"

  bool anywhere() const noexcept { return networks_.empty() && !deny_all_; }
  // Whether a client at `address` (text, as the host reports it) may use the key. An address
  // that does not parse (or is empty: the host could not tell) is allowed only when the filter
  // allows anywhere.
  bool allows(std::string_view address) const noexcept;

  bool operator==(const AddressFilter&) const = default;

 private:
  // A network as two 64-bit halves and their masks, computed once at parse, so a request
  // compares two words per network instead of masking 16 bytes.
  struct Match {
    std::uint64_t hi, lo, mask_hi, mask_lo;
    bool operator==(const Match&) const = default;
  };
  void add(const IpNetwork& n);

  std::vector<IpNetwork> networks_;
  std::vector<Match> matches_;  // one per network, same order
  bool deny_all_ = false;
};

}  // namespace mdp::api_access

namespace mdp::api_access {

// Everything the request hook enforces on a key besides revocation and expiry. Replaced as a
// whole when an admin changes any part (auth/key_cache.hpp).
struct KeyRules {
  std::vector<std::string> scopes;
  AddressFilter allowed;
  std::optional<RateLimit> rate_limit;  // nullopt: the plan's default
  bool operator==(const KeyRules&) const = default;

  bool has_scope(std::string_view scope) const noexcept {
    for (const auto& s : scopes)
      if (s == scope) return true;
    return false;
  }
};

}  // namespace mdp::api_access
