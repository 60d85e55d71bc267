#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace ipm::app {

/// What one rtnetlink message says about the host's addresses and links.
struct NetlinkChange {
  enum class Kind : std::uint8_t {
    address_added,    ///< RTM_NEWADDR
    address_removed,  ///< RTM_DELADDR
    link_up,          ///< RTM_NEWLINK with IFF_UP and IFF_RUNNING
    link_down,        ///< RTM_NEWLINK without one of them
    link_removed,     ///< RTM_DELLINK
  };
  Kind kind = Kind::address_added;
  std::uint32_t ifindex = 0;
  std::string interface;  ///< link messages: IFLA_IFNAME (empty when absent)
  /// Address messages: the address in text ("10.0.0.1", "fd00::1"), from IFA_LOCAL, else
  /// IFA_ADDRESS (a point-to-point peer's is IFA_ADDRESS; the host's own is IFA_LOCAL).
  std::string address;

  friend bool operator==(const NetlinkChange&, const NetlinkChange&) = default;
};

/// Decodes one datagram read from an rtnetlink socket (NETLINK_ROUTE, groups
/// RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR): each address and link message in
/// it, in order. Other message types (NLMSG_DONE, NLMSG_ERROR, routes ...) are skipped.
/// A message whose length runs past the datagram ends the decoding; an attribute that runs
/// past its message, or an address message without an address of its family's size, makes
/// that message skipped. Each such one is counted in `malformed`. Pure: no socket, no
/// allocation beyond the answer; table-tested and safe on any bytes.
std::vector<NetlinkChange> decode_netlink(std::span<const std::byte> datagram,
                                          std::size_t* malformed = nullptr);

}  // namespace ipm::app
