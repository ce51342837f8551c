#include "keys/key_attributes.hpp"

#include "keys/key_record.hpp"

#include <algorithm>
#include <cstring>

#include <arpa/inet.h>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/network_v4.hpp>
#include <boost/asio/ip/network_v6.hpp>

namespace mdp::api_access {

namespace ip = boost::asio::ip;

namespace {

std::array<std::uint8_t, 16> mapped(const ip::address_v4& a) {
  return ip::make_address_v6(ip::v4_mapped, a).to_bytes();
}

// Zero-extends an address to its network (bits below `prefix` cleared).
std::array<std::uint8_t, 16> masked(std::array<std::uint8_t, 16> bytes, unsigned prefix) {
  for (unsigned i = 0; i < 16; ++i) {
    const unsigned keep = prefix >= (i + 1) * 8 ? 8 : prefix > i * 8 ? prefix - i * 8 : 0;
    bytes[i] &= static_cast<std::uint8_t>(keep == 0 ? 0 : 0xFF << (8 - keep));
  }
  return bytes;
}

std::optional<IpNetwork> parse_one(const std::string& text) {
  boost::system::error_code ec;
  IpNetwork n;
  if (text.empty() || text.size() > 64) return std::nullopt;
  if (text.find('/') == std::string::npos) {
    const ip::address a = ip::make_address(text, ec);
    if (ec) return std::nullopt;
    if (a.is_v4()) {
      n.v4 = true;
      n.address = mapped(a.to_v4());
      n.prefix = 128;
    } else {
      if (a.to_v6().scope_id() != 0) return std::nullopt;  // "fe80::1%eth0": not a network
      n.address = a.to_v6().to_bytes();
      n.prefix = 128;
    }
    return n;
  }
  if (text.find(':') == std::string::npos) {
    const ip::network_v4 net = ip::make_network_v4(text, ec);
    if (ec || net.network() != net.address()) return std::nullopt;  // host bits set
    n.v4 = true;
    n.address = mapped(net.network());
    n.prefix = static_cast<std::uint8_t>(96 + net.prefix_length());
  } else {
    const ip::network_v6 net = ip::make_network_v6(text, ec);
    if (ec || net.network() != net.address() || net.address().scope_id() != 0) return std::nullopt;
    n.address = net.network().to_bytes();
    n.prefix = static_cast<std::uint8_t>(net.prefix_length());
  }
  return n;
}

std::string to_text(const IpNetwork& n) {
  if (n.v4) {
    const ip::address_v4 a = ip::make_address_v4(ip::v4_mapped, ip::address_v6(n.address));
    const unsigned bits = n.prefix - 96u;
    return bits == 32 ? a.to_string() : a.to_string() + "/" + std::to_string(bits);
  }
  const std::string a = ip::address_v6(n.address).to_string();
  return n.prefix == 128 ? a : a + "/" + std::to_string(n.prefix);
}

}  // namespace

std::optional<AddressFilter> AddressFilter::parse(const std::vector<std::string>& entries,
                                                  std::string& error) {
  if (entries.size() > kMaxNetworks) {
    error = "At most " + std::to_string(kMaxNetworks) + " addresses or networks per key.";
    return std::nullopt;
  }
  AddressFilter f;
  for (const auto& e : entries) {
    auto n = parse_one(e);
    if (!n) {
      error = "\"" + e.substr(0, 64) +
              "\" is not an IP address or network. Write networks in CIDR form with the host "
              "bits zero, e.g. \"203.0.113.0/24\" or \"2001:db8::/32\".";
      return std::nullopt;
    }
    if (std::find(f.networks_.begin(), f.networks_.end(), *n) != f.networks_.end()) {
      error = "\"" + e.substr(0, 64) + "\" is listed twice.";
      return std::nullopt;
    }
    f.add(*n);
  }
  return f;
}

void AddressFilter::add(const IpNetwork& n) {
  const std::array<std::uint8_t, 16> mask = masked(std::array<std::uint8_t, 16>{
      0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}, n.prefix);
  Match m{};
  std::memcpy(&m.hi, n.address.data(), 8);
  std::memcpy(&m.lo, n.address.data() + 8, 8);
  std::memcpy(&m.mask_hi, mask.data(), 8);
  std::memcpy(&m.mask_lo, mask.data() + 8, 8);
  networks_.push_back(n);
  matches_.push_back(m);
}

AddressFilter AddressFilter::from_stored(std::string_view stored) {
  const std::vector<std::string> entries = split_scopes(std::string(stored));  // space-separated
  std::string error;
  if (auto f = parse(entries, error)) return *f;
  AddressFilter closed;
  closed.deny_all_ = true;
  return closed;
}

std::vector<std::string> AddressFilter::to_strings() const {
  std::vector<std::string> out;
  for (const auto& n : networks_) out.push_back(to_text(n));
  return out;
}

std::string AddressFilter::to_stored() const {
  std::string out;
  for (const auto& s : to_strings()) out += (out.empty() ? "" : " ") + s;
  return out;
}

bool AddressFilter::allows(std::string_view address) const noexcept {
  if (deny_all_) return false;
  if (networks_.empty()) return true;
  // On every request to a key with a list: inet_pton straight into the 16 bytes (IPv4 as
  // ::ffff:a.b.c.d), which costs a third of boost::asio's make_address (it tries IPv6 first and
  // handles scope ids, which a client address never has). No allocation.
  char text[64];  // the longest textual IPv6 address is 45 characters
  if (address.empty() || address.size() >= sizeof text) return false;
  std::copy(address.begin(), address.end(), text);
  text[address.size()] = '\0';
  std::array<std::uint8_t, 16> bytes{};
  if (address.find(':') == std::string_view::npos) {
    bytes[10] = bytes[11] = 0xFF;
    if (::inet_pton(AF_INET, text, bytes.data() + 12) != 1) return false;
  } else if (::inet_pton(AF_INET6, text, bytes.data()) != 1) {
    return false;  // including "fe80::1%eth0": a scope id is no client address
  }
  // Byte order does not matter: address, network and mask are all copied the same way.
  std::uint64_t hi = 0, lo = 0;
  std::memcpy(&hi, bytes.data(), 8);
  std::memcpy(&lo, bytes.data() + 8, 8);
  for (const Match& m : matches_)
    if ((hi & m.mask_hi) == m.hi && (lo & m.mask_lo) == m.lo) return true;
  return false;
}

}  // namespace mdp::api_access
