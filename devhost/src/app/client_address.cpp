#include "app/client_address.hpp"

#include <array>
#include <charconv>
#include <cstdint>
#include <stdexcept>

#include <boost/asio/ip/address.hpp>

namespace mdp::devhost {

namespace {

using Bytes = std::array<std::uint8_t, 16>;

// The address as 16 bytes, IPv4 (and IPv4-mapped IPv6) as ::ffff:a.b.c.d. False if not an IP.
bool parse_address(std::string_view text, Bytes& out) noexcept {
  boost::system::error_code ec;
  const auto a = boost::asio::ip::make_address(std::string(text), ec);
  if (ec) return false;
  if (a.is_v4()) {
    out = boost::asio::ip::make_address_v6(boost::asio::ip::v4_mapped, a.to_v4()).to_bytes();
  } else {
    out = a.to_v6().to_bytes();
    if (a.to_v6().scope_id() != 0) return false;  // "fe80::1%eth0": not a client address here
  }
  return true;
}

}  // namespace

bool TrustedProxies::contains(const Network& n, const Bytes& a) noexcept {
  unsigned bits = n.prefix;
  for (std::size_t i = 0; i < 16 && bits > 0; ++i) {
    const unsigned take = bits >= 8 ? 8 : bits;
    const std::uint8_t mask = static_cast<std::uint8_t>(0xFF00u >> take);
    if ((a[i] & mask) != n.address[i]) return false;
    bits -= take;
  }
  return true;
}

namespace {

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// "203.0.113.7:443" -> "203.0.113.7"; "[2001:db8::1]:443" and "[2001:db8::1]" -> "2001:db8::1".
std::string_view strip_port(std::string_view s) noexcept {
  if (!s.empty() && s.front() == '[') {
    const auto close = s.find(']');
    return close == std::string_view::npos ? std::string_view{} : s.substr(1, close - 1);
  }
  const auto colon = s.find(':');
  if (colon != std::string_view::npos && s.find(':', colon + 1) == std::string_view::npos)
    return s.substr(0, colon);  // one colon: IPv4 with a port (IPv6 has at least two)
  return s;
}

}  // namespace

void TrustedProxies::add(std::string_view cidr) {
  const auto slash = cidr.find('/');
  const std::string_view addr = cidr.substr(0, slash);
  Network n;
  if (!parse_address(addr, n.address))
    throw std::invalid_argument("--trusted-proxy: \"" + std::string(cidr) + "\" is not an IP address or CIDR");
  const bool v4 = addr.find(':') == std::string_view::npos;
  const unsigned max = v4 ? 32 : 128;
  unsigned prefix = max;
  if (slash != std::string_view::npos) {
    const std::string_view p = cidr.substr(slash + 1);
    const auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), prefix);
    if (p.empty() || ec != std::errc{} || end != p.data() + p.size() || prefix > max)
      throw std::invalid_argument("--trusted-proxy: \"" + std::string(cidr) + "\" has a prefix outside 0-" +
                                  std::to_string(max));
  }
  n.prefix = v4 ? 96 + prefix : prefix;
  Bytes masked = n.address;
  unsigned bits = n.prefix;
  for (auto& b : masked) {
    const unsigned take = bits >= 8 ? 8 : bits;
    b &= static_cast<std::uint8_t>(0xFF00u >> take);
    bits -= take;
  }
  if (masked != n.address)
    throw std::invalid_argument("--trusted-proxy: \"" + std::string(cidr) +
                                "\" has host bits set below its prefix");
  networks_.push_back(n);
}

bool TrustedProxies::trusts(std::string_view address) const noexcept {
  Bytes a;
  if (!parse_address(strip_port(trim(address)), a)) return false;
  for (const auto& n : networks_)
    if (contains(n, a)) return true;
  return false;
}

std::string TrustedProxies::client_of(std::string_view peer,
                                      const std::vector<std::string_view>& forwarded_for) const {
  if (networks_.empty() || forwarded_for.empty() || !trusts(peer)) return std::string(peer);
  std::vector<std::string_view> hops;
  for (std::string_view line : forwarded_for) {
    while (true) {
      const auto comma = line.find(',');
      hops.push_back(strip_port(trim(line.substr(0, comma))));
      if (comma == std::string_view::npos) break;
      line.remove_prefix(comma + 1);
    }
  }
  for (auto it = hops.rbegin(); it != hops.rend(); ++it) {
    Bytes a;
    if (it->empty() || !parse_address(*it, a)) return {};
    if (!trusts(*it) || std::next(it) == hops.rend()) return std::string(*it);
  }
  return {};
}

}  // namespace mdp::devhost
