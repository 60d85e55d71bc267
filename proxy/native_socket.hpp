#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>

namespace ipm::proxy {

/// Socket set-up without the syscalls Asio would add on the hot path. Asio's accept and
/// open() give blocking descriptors and switch them with ioctl(FIONBIO) at the first async
/// operation, and an accepted (assigned) descriptor is removed from epoll with an explicit
/// EPOLL_CTL_DEL before close(). Descriptors made here are non-blocking from birth
/// (accept4/socket with SOCK_NONBLOCK) and Asio is told so, and they are known not to be
/// dup()ed, so close() alone leaves the epoll set. Telling Asio uses its internal state
/// flags, as reviewed for Boost 1.81; with another Boost the public non_blocking() call is
/// used instead (one ioctl more per socket). Not thread-safe (like the sockets).

/// Accepts one pending connection as a non-blocking, close-on-exec socket on `socket`
/// (which must be closed) and fills `peer`. Errors (would_block when none is pending,
/// EMFILE...) come back in `ec` and leave `socket` closed.
void accept_nonblocking(boost::asio::ip::tcp::acceptor& acceptor,
                        boost::asio::ip::tcp::socket& socket, boost::asio::ip::tcp::endpoint& peer,
                        boost::system::error_code& ec);

/// Opens `socket` (closed before) as a non-blocking, close-on-exec TCP socket.
void open_nonblocking(boost::asio::ip::tcp::socket& socket, const boost::asio::ip::tcp& protocol,
                      boost::system::error_code& ec);

}  // namespace ipm::proxy
