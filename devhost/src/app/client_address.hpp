// Who the client of a request is: the connection's peer, or, when that peer is a proxy the
// operator trusts (--trusted-proxy CIDR, repeatable), the address the proxies reported in
// X-Forwarded-For.
//
// The rule: without trusted proxies, or when the peer is not one of them, the peer is the client
// and X-Forwarded-For is ignored (anyone can send it). When the peer is trusted, the entries of
// every X-Forwarded-For line, joined in arrival order, are read from the right: each trusted
// address is a proxy that appended the hop before it, and the first untrusted one is the client
// (anything left of it was written by the client and proves nothing). If every entry is a
// trusted proxy, the leftmost is the client. An entry that is not an IP address (a proxy
// misconfigured, or a client's garbage reached before an untrusted hop) makes the answer ""
// ("cannot tell"), which plugins treat as unknown rather than as the proxy's own address.
// Entries may carry a port ("203.0.113.7:443", "[2001:db8::1]:443"), which is dropped.
// IPv4-mapped IPv6 peers ("::ffff:127.0.0.1", on a dual-stack socket) match IPv4 networks.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mdp::devhost {

class TrustedProxies {
 public:
  // Adds "10.0.0.0/8", "2001:db8::/32", or one address ("127.0.0.1" = /32). Throws
  // std::invalid_argument with a one-line reason (bad address, bad prefix, host bits set).
  void add(std::string_view cidr);
  bool empty() const noexcept { return networks_.empty(); }
  bool trusts(std::string_view address) const noexcept;

  // The client address by the rule above. `forwarded_for` are the X-Forwarded-For lines in
  // arrival order.
  std::string client_of(std::string_view peer, const std::vector<std::string_view>& forwarded_for) const;

 private:
  struct Network {
    std::array<std::uint8_t, 16> address{};  // IPv4 held IPv4-mapped (::ffff:a.b.c.d)
    unsigned prefix = 0;                      // over the 16 bytes: IPv4 /n is 96 + n
  };
  static bool contains(const Network& n, const std::array<std::uint8_t, 16>& a) noexcept;
  std::vector<Network> networks_;
};

}  // namespace mdp::devhost
