#include "proxy/native_socket.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include <boost/version.hpp>

#include "proxy/io_errors.hpp"

namespace ipm::proxy {
namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

#if IPM_ASIO_INTERNALS
static_assert(
    BOOST_VERSION / 100 == 1081,
    "Asio internals reviewed for Boost 1.81 only: configure with -DIPM_ASIO_INTERNALS=OFF");
// Reviewed against Boost 1.81 (Debian 12): basic_socket keeps its implementation (and the
// state flags Asio consults before each operation) protected; a derived class may name it,
// and the member pointer then applies to any tcp::socket.
struct StateAccess : tcp::socket {
  static asio::detail::socket_ops::state_type& state(tcp::socket& s) {
    return (s.*&StateAccess::impl_).get_implementation().state_;
  }
};

// Tells Asio what is true of a descriptor made here: already non-blocking (no ioctl at the
// first operation) and not a dup (no EPOLL_CTL_DEL before close()).
void mark_nonblocking_original(tcp::socket& socket, boost::system::error_code&) {
  auto& state = StateAccess::state(socket);
  state |= asio::detail::socket_ops::internal_non_blocking;
  state &=
      static_cast<asio::detail::socket_ops::state_type>(~asio::detail::socket_ops::possible_dup);
}
#if defined(BOOST_ASIO_HAS_EPOLL) && !defined(BOOST_ASIO_HAS_IO_URING_AS_DEFAULT)
// The reactor's "try a read before waiting" flag is private to its descriptor_state. An explicit
// instantiation may name a private member ([temp.spec.general]/6), which gives its pointer.
struct TrySpeculativeTag {
  using type =
      bool (asio::detail::epoll_reactor::descriptor_state::*)[asio::detail::epoll_reactor::max_ops];
  friend type member(TrySpeculativeTag);
};
template <typename Tag, typename Tag::type Member>
struct PrivateMember {
  friend typename Tag::type member(Tag) { return Member; }
};
template struct PrivateMember<TrySpeculativeTag,
                              &asio::detail::epoll_reactor::descriptor_state::try_speculative_>;

struct ReactorAccess : tcp::socket {
  static asio::detail::epoll_reactor::descriptor_state* descriptor(tcp::socket& s) {
    return (s.*&ReactorAccess::impl_).get_implementation().reactor_data_;
  }
};

void mark_read_exhausted(tcp::socket& socket) {
  if (auto* descriptor = ReactorAccess::descriptor(socket))
    (descriptor->*member(TrySpeculativeTag{}))[asio::detail::epoll_reactor::read_op] = false;
}
#else
void mark_read_exhausted(tcp::socket&) {}  // another reactor: the read tries a recv(2) first
#endif
#else
// The public path (IPM_ASIO_INTERNALS=OFF, and what any other Boost gets): the same state
// through public calls, one ioctl(FIONBIO) more per socket (and Asio keeps its EPOLL_CTL_DEL
// at close). native_non_blocking() is the flag Asio's async operations consult; unlike
// non_blocking() it leaves synchronous calls on the socket blocking, as the internal path does.
void mark_nonblocking_original(tcp::socket& socket, boost::system::error_code& ec) {
  socket.native_non_blocking(true, ec);
}

void mark_read_exhausted(tcp::socket&) {}  // the read tries a recv(2) first: one EAGAIN more
#endif

}  // namespace

void adopt(tcp::socket& socket, const tcp& protocol, int fd, boost::system::error_code& ec) {
  socket.assign(protocol, fd, ec);
  if (ec) {
    ::close(fd);
    return;
  }
  mark_nonblocking_original(socket, ec);
  if (ec) {
    boost::system::error_code ignored;
    socket.close(ignored);
  }
}

void accept_nonblocking(tcp::acceptor& acceptor, tcp::socket& socket, tcp::endpoint& peer,
                        boost::system::error_code& ec) {
  socklen_t length = static_cast<socklen_t>(peer.capacity());
  int fd;
  do {
    fd = ::accept4(acceptor.native_handle(), peer.data(), &length, SOCK_NONBLOCK | SOCK_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    ec = errno == EAGAIN ? make_error_code(asio::error::would_block) : errno_code();
    return;
  }
  peer.resize(length);
  adopt(socket, peer.protocol(), fd, ec);  // the peer's family: no getsockname()
}

int open_nonblocking(const tcp& protocol, boost::system::error_code& ec) {
  const int fd =
      ::socket(protocol.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol.protocol());
  if (fd < 0)
    ec = errno_code();
  return fd;
}

void expect_no_data(tcp::socket& socket) {
  mark_read_exhausted(socket);
}

std::string_view native_socket_path() {
  return IPM_ASIO_INTERNALS ? "asio-internals" : "public-api";
}

}  // namespace ipm::proxy
