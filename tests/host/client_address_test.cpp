// The devhost's client-address rule (app/client_address.hpp): X-Forwarded-For is believed only
// from peers named with --trusted-proxy, read from the right, and garbage means "cannot tell".
// Over HTTP, the same rule decides a key's allowed_ips (tests/plugin/http_traffic.cpp).
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "app/client_address.hpp"

namespace {

using mdp::devhost::TrustedProxies;

TrustedProxies proxies(std::vector<std::string> cidrs) {
  TrustedProxies p;
  for (const auto& c : cidrs) p.add(c);
  return p;
}

TEST(ClientAddress, WithoutTrustedProxiesThePeerIsTheClient) {
  TrustedProxies none;
  EXPECT_EQ(none.client_of("127.0.0.1", {"203.0.113.7"}), "127.0.0.1");
  EXPECT_EQ(none.client_of("::1", {}), "::1");
}

TEST(ClientAddress, AnUntrustedPeerCannotClaimAnotherAddress) {
  const auto p = proxies({"10.0.0.0/8"});
  EXPECT_EQ(p.client_of("192.0.2.1", {"203.0.113.7"}), "192.0.2.1");
}

TEST(ClientAddress, ATrustedPeerNamesTheClientFromTheRight) {
  const auto p = proxies({"127.0.0.1", "10.0.0.0/8", "2001:db8:ffff::/48"});
  EXPECT_EQ(p.client_of("127.0.0.1", {"203.0.113.7"}), "203.0.113.7");
  // The client wrote the leftmost entry itself; the first untrusted hop from the right is the
  // address our own proxies saw.
  EXPECT_EQ(p.client_of("127.0.0.1", {"198.51.100.1, 203.0.113.7, 10.1.2.3"}), "203.0.113.7");
  // Several header lines are one list, in order.
  EXPECT_EQ(p.client_of("127.0.0.1", {"198.51.100.1", "203.0.113.7", "10.1.2.3"}), "203.0.113.7");
  // IPv6 client, IPv6 proxy, ports and brackets.
  EXPECT_EQ(p.client_of("127.0.0.1", {"[2001:db8::7]:443, 2001:db8:ffff::1"}), "2001:db8::7");
  EXPECT_EQ(p.client_of("127.0.0.1", {"203.0.113.7:5555"}), "203.0.113.7");
  // Every hop trusted: the leftmost is the client.
  EXPECT_EQ(p.client_of("127.0.0.1", {"10.9.9.9, 10.1.1.1"}), "10.9.9.9");
  // No header from a trusted peer: the peer itself.
  EXPECT_EQ(p.client_of("127.0.0.1", {}), "127.0.0.1");
}

TEST(ClientAddress, GarbageFromATrustedPeerMeansCannotTell) {
  const auto p = proxies({"127.0.0.1"});
  EXPECT_EQ(p.client_of("127.0.0.1", {"not-an-address"}), "");
  EXPECT_EQ(p.client_of("127.0.0.1", {"203.0.113.7, "}), "");
  EXPECT_EQ(p.client_of("127.0.0.1", {"fe80::1%eth0"}), "");
  // Garbage left of the first untrusted hop is the client's own text: ignored.
  EXPECT_EQ(p.client_of("127.0.0.1", {"garbage, 203.0.113.7"}), "203.0.113.7");
}

TEST(ClientAddress, Ipv4MappedPeersMatchIpv4Networks) {
  const auto p = proxies({"127.0.0.0/8"});
  EXPECT_TRUE(p.trusts("::ffff:127.0.0.1"));
  EXPECT_TRUE(p.trusts("127.1.2.3"));
  EXPECT_FALSE(p.trusts("::1"));
  EXPECT_EQ(p.client_of("::ffff:127.0.0.1", {"203.0.113.7"}), "203.0.113.7");
}

TEST(ClientAddress, BadFlagsAreRefusedWithAReason) {
  TrustedProxies p;
  for (const char* bad : {"", "10.0.0.0/33", "2001:db8::/129", "10.0.0.1/8", "10.0.0.0/", "host.example",
                          "10.0.0.0/8x", "::1/-1"}) {
    try {
      p.add(bad);
      ADD_FAILURE() << "accepted \"" << bad << "\"";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("--trusted-proxy"), std::string::npos) << e.what();
    }
  }
  EXPECT_TRUE(p.empty());
}

}  // namespace
