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
/// brought here: SO_ORIGINAL_DST for IPv4 (also on a dual-stack socket, whose IPv4 clients
/// are v4-mapped), IP6T_SO_ORIGINAL_DST for IPv6 (conntrack's record). A connection that was
/// not redirected gives the listener's own address: check it with is_own_listener(). nullopt
/// with `ec` set when conntrack has no record (ENOENT).
std::optional<Destination> original_destination(int fd, std::error_code& ec);

/// The accepted connection's own local address (getsockname; a v4-mapped one as IPv4), to
/// compare with its original destination.
std::optional<Destination> local_destination(int fd, std::error_code& ec);

/// Whether the original destination `d` of a connection accepted at `local` is the gateway's
/// own transparent listener (a client that connects to it directly, or a rule that sends the
/// gateway's own output back to it): dialling it would loop. The unspecified address (0.0.0.0,
/// ::) is this host as well. Another host's port that happens to be the listener's is not.
bool is_own_listener(const Destination& d, const Destination& local);

}  // namespace ipm::gateway
