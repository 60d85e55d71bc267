#include "app/netlink_messages.hpp"

#include <arpa/inet.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>

#include <cstring>
#include <random>

#include <gtest/gtest.h>

// rtnetlink messages as the kernel sends them on address and link changes, built byte by byte,
// and what the decoder makes of them, malformed ones included.

namespace {

using ipm::app::decode_netlink;
using ipm::app::NetlinkChange;
using Kind = ipm::app::NetlinkChange::Kind;
using Bytes = std::vector<std::byte>;

template <class T>
void put(Bytes& b, const T& v) {
  const auto* p = reinterpret_cast<const std::byte*>(&v);
  b.insert(b.end(), p, p + sizeof(T));
}

void pad4(Bytes& b) {
  while (b.size() % 4 != 0)
    b.push_back(std::byte{0});
}

void attribute(Bytes& b, std::uint16_t type, const void* data, std::size_t size) {
  rtattr a{};
  a.rta_len = static_cast<std::uint16_t>(sizeof(rtattr) + size);
  a.rta_type = type;
  put(b, a);
  const auto* p = static_cast<const std::byte*>(data);
  b.insert(b.end(), p, p + size);
  pad4(b);
}

// One netlink message of `type` around `body`, appended to `out`.
void message(Bytes& out, std::uint16_t type, const Bytes& body) {
  nlmsghdr h{};
  h.nlmsg_len = static_cast<std::uint32_t>(sizeof(nlmsghdr) + body.size());
  h.nlmsg_type = type;
  put(out, h);
  out.insert(out.end(), body.begin(), body.end());
  pad4(out);
}

Bytes address_body(int family, std::uint32_t index, const char* local, const char* peer) {
  Bytes b;
  ifaddrmsg m{};
  m.ifa_family = static_cast<std::uint8_t>(family);
  m.ifa_prefixlen = family == AF_INET ? 24 : 64;
  m.ifa_index = index;
  put(b, m);
  unsigned char raw[16];
  const std::size_t size = family == AF_INET ? 4 : 16;
  if (peer != nullptr && ::inet_pton(family, peer, raw) == 1)
    attribute(b, IFA_ADDRESS, raw, size);
  if (local != nullptr && ::inet_pton(family, local, raw) == 1)
    attribute(b, IFA_LOCAL, raw, size);
  return b;
}

Bytes link_body(int index, unsigned flags, const char* name) {
  Bytes b;
  ifinfomsg m{};
  m.ifi_family = AF_UNSPEC;
  m.ifi_index = index;
  m.ifi_flags = flags;
  put(b, m);
  if (name != nullptr)
    attribute(b, IFLA_IFNAME, name, std::strlen(name) + 1);
  return b;
}

struct Case {
  const char* what;
  Bytes datagram;
  std::vector<NetlinkChange> expected;
  std::size_t malformed;
};

Bytes one(std::uint16_t type, const Bytes& body) {
  Bytes out;
  message(out, type, body);
  return out;
}

std::vector<Case> cases() {
  std::vector<Case> c;
  c.push_back({"an IPv4 address added",
               one(RTM_NEWADDR, address_body(AF_INET, 2, "10.0.0.7", "10.0.0.7")),
               {{Kind::address_added, 2, "", "10.0.0.7"}},
               0});
  c.push_back({"an IPv6 address removed (IFA_ADDRESS only, as the kernel sends IPv6)",
               one(RTM_DELADDR, address_body(AF_INET6, 3, nullptr, "fd31::5")),
               {{Kind::address_removed, 3, "", "fd31::5"}},
               0});
  c.push_back({"a point-to-point address: IFA_LOCAL is ours, IFA_ADDRESS the peer's",
               one(RTM_NEWADDR, address_body(AF_INET, 4, "10.1.0.1", "10.1.0.2")),
               {{Kind::address_added, 4, "", "10.1.0.1"}},
               0});
  c.push_back(
      {"a link up and running",
       one(RTM_NEWLINK, link_body(5, IFF_UP | IFF_RUNNING | 0x10000 /* IFF_LOWER_UP */, "veth0")),
       {{Kind::link_up, 5, "veth0", ""}},
       0});
  c.push_back({"a link up but not running (no carrier)",
               one(RTM_NEWLINK, link_body(5, IFF_UP, "veth0")),
               {{Kind::link_down, 5, "veth0", ""}},
               0});
  c.push_back({"a link set down",
               one(RTM_NEWLINK, link_body(5, 0, "veth0")),
               {{Kind::link_down, 5, "veth0", ""}},
               0});
  c.push_back({"a link removed",
               one(RTM_DELLINK, link_body(6, 0, "dummy1")),
               {{Kind::link_removed, 6, "dummy1", ""}},
               0});
  {
    Bytes d;
    message(d, RTM_NEWLINK, link_body(5, 0, "veth0"));
    message(d, RTM_NEWROUTE, Bytes(12, std::byte{0}));  // not ours: skipped, not malformed
    message(d, RTM_DELADDR, address_body(AF_INET, 5, "10.0.0.9", nullptr));
    message(d, NLMSG_DONE, Bytes(4, std::byte{0}));
    c.push_back({"several messages in one datagram, others skipped",
                 d,
                 {{Kind::link_down, 5, "veth0", ""}, {Kind::address_removed, 5, "", "10.0.0.9"}},
                 0});
  }
  c.push_back({"an address message without an address",
               one(RTM_NEWADDR, address_body(AF_INET, 2, nullptr, nullptr)),
               {},
               1});
  {
    Bytes body = address_body(AF_INET, 2, "10.0.0.7", nullptr);
    body[sizeof(ifaddrmsg)] = std::byte{200};  // the attribute claims 200 bytes
    c.push_back({"an attribute running past its message", one(RTM_NEWADDR, body), {}, 1});
  }
  {
    Bytes body = address_body(AF_INET, 2, nullptr, nullptr);
    attribute(body, IFA_LOCAL, "\x0a\x00", 2);  // two bytes for an IPv4 address
    c.push_back({"an address of the wrong size", one(RTM_NEWADDR, body), {}, 1});
  }
  {
    Bytes d = one(RTM_NEWLINK, link_body(5, IFF_UP | IFF_RUNNING, "veth0"));
    Bytes more = one(RTM_DELLINK, link_body(6, 0, "x"));
    more[0] = std::byte{0xFF};  // its length runs past the datagram
    d.insert(d.end(), more.begin(), more.end());
    c.push_back({"a message whose length runs past the datagram ends the decoding",
                 d,
                 {{Kind::link_up, 5, "veth0", ""}},
                 1});
  }
  c.push_back({"a link message with index 0", one(RTM_NEWLINK, link_body(0, IFF_UP, "x")), {}, 1});
  c.push_back({"a header cut short", Bytes(10, std::byte{1}), {}, 0});
  c.push_back({"nothing", {}, {}, 0});
  return c;
}

TEST(NetlinkMessagesTest, decodes_address_and_link_changes) {
  for (const Case& c : cases()) {
    std::size_t malformed = 0;
    EXPECT_EQ(decode_netlink(c.datagram, &malformed), c.expected) << c.what;
    EXPECT_EQ(malformed, c.malformed) << c.what;
  }
}

// Random bytes and every truncation of a valid datagram: an answer, never a crash (ASan and
// UBSan builds read every byte of this).
TEST(NetlinkMessagesTest, any_bytes_are_decoded_or_skipped) {
  Bytes valid;
  message(valid, RTM_NEWLINK, link_body(5, IFF_UP | IFF_RUNNING, "veth0"));
  message(valid, RTM_NEWADDR, address_body(AF_INET6, 5, "fd31::1", nullptr));
  for (std::size_t n = 0; n <= valid.size(); ++n)
    decode_netlink(std::span(valid).first(n));
  std::mt19937 rng(4);
  for (int i = 0; i < 2000; ++i) {
    Bytes junk = valid;
    for (int k = 0; k < 4; ++k)
      junk[rng() % junk.size()] = static_cast<std::byte>(rng());
    decode_netlink(junk);
  }
  SUCCEED();
}

}  // namespace
