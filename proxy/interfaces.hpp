#pragma once

#include <string>
#include <vector>

#include <boost/asio/ip/address.hpp>

namespace ipm::proxy {

/// One address of one network interface.
struct InterfaceAddress {
  std::string interface;
  boost::asio::ip::address address;  ///< an IPv6 link-local one keeps its scope id
  bool up = false;
  bool loopback = false;
};

/// Every IPv4 and IPv6 address of every interface, as getifaddrs(3) lists them now (empty when
/// it fails). For `ipmanager dispatch -list`, the source egresses named by interface and the
/// destinations refused as the host's own.
std::vector<InterfaceAddress> interface_addresses();

}  // namespace ipm::proxy
