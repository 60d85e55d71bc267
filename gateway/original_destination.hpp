#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <system_error>

namespace ipm::gateway {

/// Where a redirected client meant to go, as the kernel's NAT recorded it.
struct Destination {
  std::string address;  ///< "203.0.113.5", "2001:db8::5"
  std::uint16_t port = 0;
  bool v6 = false;

  friend bool operator==(const Destination&, const Destination&) = default;
};

/// The original destination of an accepted TCP connection that an nftables/iptables redirect
/// brought here: SO_ORIGINAL_DST for IPv4, IP6T_SO_ORIGINAL_DST for IPv6 (conntrack's record).
/// A connection that was not redirected gives the listener's own address: check it with
/// is_own_listener(). nullopt with `ec` set when conntrack has no record (ENOENT).
std::optional<Destination> original_destination(int fd, std::error_code& ec);

/// Whether `d` is the gateway's own transparent listener (a client that connects to it, or a
/// rule that sends the gateway's own output back to it): dialling it would loop.
bool is_own_listener(const Destination& d, const std::string& listen_address,
                     std::uint16_t listen_port);

}  // namespace ipm::gateway
