#pragma once

#include <string_view>

#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>

namespace ipm::proxy {

/// Socket set-up without the syscalls Asio would add on the hot path. Asio's accept and
/// open() give blocking descriptors and switch them with ioctl(FIONBIO) at the first async
/// operation, and an accepted (assigned) descriptor is removed from epoll with an explicit
/// EPOLL_CTL_DEL before close(). Descriptors made here are non-blocking from birth
/// (accept4/socket with SOCK_NONBLOCK) and Asio is told so, and they are known not to be
/// dup()ed, so close() alone leaves the epoll set. Telling Asio uses its internal state
/// flags, as reviewed for Boost 1.81, when built with IPM_ASIO_INTERNALS (the default on
/// Boost 1.81); otherwise the public native_non_blocking() call (one ioctl more per socket).
/// CI builds and tests both. Not thread-safe (like the sockets).

/// Accepts one pending connection as a non-blocking, close-on-exec socket on `socket`
/// (which must be closed) and fills `peer`. Errors (would_block when none is pending,
/// EMFILE...) come back in `ec` and leave `socket` closed.
void accept_nonblocking(boost::asio::ip::tcp::acceptor& acceptor,
                        boost::asio::ip::tcp::socket& socket, boost::asio::ip::tcp::endpoint& peer,
                        boost::system::error_code& ec);

/// A new non-blocking, close-on-exec TCP socket descriptor that no Asio socket owns yet, or -1
/// with `ec` set. Connect it before adopt(): a socket registered with epoll before connect(2)
/// reports EPOLLHUP (it is in the CLOSE state), which wakes the reactor for nothing.
int open_nonblocking(const boost::asio::ip::tcp& protocol, boost::system::error_code& ec);

/// Hands a descriptor from open_nonblocking() to `socket` (closed before): registered with the
/// reactor once. On failure `fd` is closed and `ec` set.
void adopt(boost::asio::ip::tcp::socket& socket, const boost::asio::ip::tcp& protocol, int fd,
           boost::system::error_code& ec);

/// Tells Asio's reactor that `socket` has nothing to read now, as it tells itself after a
/// short read: the next async read waits for readiness instead of first trying a recv(2)
/// that would fail with EAGAIN. Call it only when that is known since the last readiness
/// event the reactor saw: right after a recv(2) of ours failed with EAGAIN, or on a socket
/// registered since the reactor last waited. Any data, EOF or error that arrives later raises
/// a new readiness event, which lets the read go on. Not after a short read: an EOF may already
/// wait behind it, and no event would come for it. Boost 1.81 internals, like the state flags
/// above; a no-op on the public path.
void expect_no_data(boost::asio::ip::tcp::socket& socket);

/// "asio-internals" or "public-api": which path this build uses (IPM_ASIO_INTERNALS).
std::string_view native_socket_path();

}  // namespace ipm::proxy
