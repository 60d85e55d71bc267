#pragma once

#include <chrono>
#include <cstddef>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>

#include "pool/egress.hpp"
#include "pool/event.hpp"
#include "proxy/protocol/destination.hpp"
#include "proxy/protocol/step.hpp"

namespace ipm::proxy {

/// How one dial through a source or upstream egress went.
struct EgressAttempt {
  pool::DialResult result = pool::DialResult::ok;
  boost::system::error_code error;  ///< the socket error, when there was one
  int upstream_code = -1;           ///< the upstream's refusal code, when it sent one
  /// The address to report in a SOCKS reply: the socket's own for a source, the upstream's
  /// BND.ADDR for an upstream (a domain or nothing when it gave none).
  protocol::Destination bound;
  std::vector<std::byte> early;  ///< tunnel bytes that came with an upstream's answer
  std::chrono::microseconds took{0};
  /// The proxy itself ran out of descriptors or memory: not the egress's doing.
  bool local = false;

  bool ok() const { return result == pool::DialResult::ok; }
};

/// Whether `e` can dial `a`: an egress of one family is offered destinations of its own.
bool reaches(const pool::Egress& e, const boost::asio::ip::address& a);

/// Classifies a socket error of a dial (timeouts are the caller's `expired`).
pool::DialResult dial_result(const boost::system::error_code& ec, bool expired);

/// Opens `socket` bound to the source egress `egress` (its device with SO_BINDTODEVICE when
/// it has one, then its address with IP_BIND_ADDRESS_NO_PORT so the port is chosen at
/// connect(2) and ports are not exhausted by bind) and connects it to `to`. A failed bind
/// fails the attempt (bind_failed): the connection never leaves from the default address.
/// The caller bounds it by cancelling `socket` and setting `expired`.
boost::asio::awaitable<EgressAttempt> dial_source(boost::asio::ip::tcp::socket& socket,
                                                  const pool::Egress& egress,
                                                  const boost::asio::ip::tcp::endpoint& to,
                                                  const bool& expired);

/// Connects `socket` to the upstream proxy at `upstream` and asks it for `to` in the egress's
/// protocol (SOCKS5 with RFC 1929 credentials, SOCKS4/4a, HTTP CONNECT with Basic), leaving
/// a tunnel to `to` on success. Bounded by the caller like dial_source().
boost::asio::awaitable<EgressAttempt> dial_upstream(boost::asio::ip::tcp::socket& socket,
                                                    const pool::Egress& egress,
                                                    const boost::asio::ip::tcp::endpoint& upstream,
                                                    const protocol::Destination& to,
                                                    const bool& expired);

/// `endpoint` as a protocol Destination (for SOCKS replies).
protocol::Destination to_destination(const boost::asio::ip::tcp::endpoint& endpoint);

}  // namespace ipm::proxy
