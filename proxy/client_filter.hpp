#pragma once

#include <string>
#include <vector>

#include <boost/asio/ip/address.hpp>

#include "config/cidr.hpp"

namespace ipm::proxy {

/// proxy_allow_clients: the address blocks whose clients the proxy serves. Empty: every
/// client that reaches the listener. Immutable after construction, so thread-safe.
class ClientFilter {
 public:
  ClientFilter() = default;
  /// Blocks as the config validated them ("10.0.0.0/8", "::1"); throws std::invalid_argument
  /// on one that does not parse.
  explicit ClientFilter(const std::vector<std::string>& blocks);

  bool allows(const boost::asio::ip::address& client) const;

 private:
  std::vector<config::Cidr> blocks_;
};

}  // namespace ipm::proxy
