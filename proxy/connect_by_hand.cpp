#include "proxy/connect_by_hand.hpp"

#include <sys/socket.h>

#include <cerrno>

#include "proxy/io_errors.hpp"

namespace ipm::proxy {

boost::system::error_code start_connect(int fd, const boost::asio::ip::tcp::endpoint& to) {
  if (::connect(fd, to.data(), to.size()) != 0 && errno != EINPROGRESS && errno != EINTR)
    return errno_code();
  return {};
}

std::optional<boost::system::error_code> connect_again(int fd,
                                                       const boost::asio::ip::tcp::endpoint& to) {
  if (::connect(fd, to.data(), to.size()) == 0 || errno == EISCONN)
    return boost::system::error_code{};
  if (errno == EALREADY || errno == EINPROGRESS || errno == EINTR)
    return std::nullopt;
  return errno_code();
}

boost::asio::awaitable<boost::system::error_code> wait_connected(
    boost::asio::ip::tcp::socket& socket) {
  auto [ec] = co_await socket.async_wait(boost::asio::ip::tcp::socket::wait_write, kAwait);
  if (ec)
    co_return ec;
  int error = 0;
  socklen_t length = sizeof(error);
  if (::getsockopt(socket.native_handle(), SOL_SOCKET, SO_ERROR, &error, &length) != 0)
    co_return errno_code();
  co_return error != 0 ? errno_code(error) : boost::system::error_code{};
}

}  // namespace ipm::proxy
