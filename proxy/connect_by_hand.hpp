#pragma once

#include <optional>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>

namespace ipm::proxy {

/// connect(2) by hand on a descriptor from open_nonblocking(), for the dials of every front
/// end: Asio's async_connect adds a poll(2) before its getsockopt(SO_ERROR).

/// Starts connecting `fd` to `to`: no error while the handshake goes on (or is done), else
/// the connect's error (`fd` stays open).
boost::system::error_code start_connect(int fd, const boost::asio::ip::tcp::endpoint& to);

/// A second connect(2) asks whether the handshake is over: the result once it is (no error:
/// connected), nothing while it goes on. On loopback and other fast paths it often is by now,
/// and one syscall replaces a readiness wait, its epoll_ctl and getsockopt(SO_ERROR).
std::optional<boost::system::error_code> connect_again(int fd,
                                                       const boost::asio::ip::tcp::endpoint& to);

/// Waits until `socket` (adopted while connecting) is writable and gives the connect's
/// result: the wait's error (cancelled, say) or the socket's SO_ERROR.
boost::asio::awaitable<boost::system::error_code> wait_connected(
    boost::asio::ip::tcp::socket& socket);

}  // namespace ipm::proxy
