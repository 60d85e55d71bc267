#pragma once

#include <cstdint>
#include <vector>

#include <boost/asio/ip/address.hpp>

#include "config/cidr.hpp"

namespace ipm::proxy {

/// Which destinations the socks and http front ends may connect to. Refused unless allowed:
/// link-local (169.254.0.0/16, fe80::/10), loopback (127.0.0.0/8, ::1), unspecified
/// (0.0.0.0/8, ::) and the host's own addresses, so that a client cannot reach services bound
/// to them (or a cloud metadata service) through the proxy. `deny` refuses more; `allow` lets
/// some of the refused ones through; a deny rule wins over an allow rule. Immutable after
/// construction: thread-safe.
class DestinationPolicy {
 public:
  DestinationPolicy(std::vector<config::AddressRule> allow, std::vector<config::AddressRule> deny,
                    const std::vector<boost::asio::ip::address>& own_addresses);

  bool allowed(const boost::asio::ip::address& address, std::uint16_t port) const;

 private:
  std::vector<config::AddressRule> allow_;
  std::vector<config::AddressRule> deny_;
  std::vector<config::AddressRule> refused_;  ///< the defaults and the host's addresses
};

}  // namespace ipm::proxy
