#pragma once

#include <functional>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/generic/raw_protocol.hpp>

#include "app/address_model.hpp"
#include "pool/egress.hpp"

namespace ipm::app {

/// Follows the host's addresses and links through an rtnetlink socket (NETLINK_ROUTE, groups
/// link, IPv4 and IPv6 address) and tells `present` the moment a source egress's address or
/// link disappears (false) and when it returns (true): the engine takes it out of selection
/// before a client's dial has to fail on it. The state starts from getifaddrs; when the socket
/// reports lost messages (ENOBUFS), it starts over from getifaddrs. Sources whose address is on
/// no interface at start are reported absent at once.
/// Runs on `executor`'s thread; not thread-safe. Stop it before its io_context stops running.
class AddressWatch {
 public:
  using Present = std::function<void(const std::string& id, bool present)>;

  AddressWatch(boost::asio::any_io_executor executor, const std::vector<pool::Egress>& egresses,
               Present present);
  AddressWatch(const AddressWatch&) = delete;
  AddressWatch& operator=(const AddressWatch&) = delete;

  /// Opens the socket, reads the host's addresses and starts following changes. False (with
  /// `error` set) when the socket cannot be opened: sources then leave only by failed dials.
  bool start(std::string& error);
  void stop();
  /// Follows the source egresses of `egresses` from now on (a SIGHUP changed the pool): a new
  /// source whose address or link is not there is reported absent at once, a removed one is
  /// no longer followed. Opens the socket when it is the first source to follow.
  void follow(const std::vector<pool::Egress>& egresses);

 private:
  boost::asio::awaitable<void> loop();
  void resync();
  void tell(const std::vector<std::pair<std::string, bool>>& changes);

  AddressModel model_;
  const Present present_;
  boost::asio::generic::raw_protocol::socket socket_;
  bool stopping_ = false;
};

}  // namespace ipm::app
