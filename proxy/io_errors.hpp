#pragma once

#include <cerrno>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/error_code.hpp>

namespace ipm::proxy {

/// The completion token of the proxy's coroutines: expected network errors come back as
/// values (`auto [ec, n] = co_await s.async_read_some(buffer, kAwait);`), never as exceptions.
inline constexpr auto kAwait = boost::asio::as_tuple(boost::asio::use_awaitable);

/// `e` (errno by default) as an error_code in the system category, as Asio reports errors.
inline boost::system::error_code errno_code(int e = errno) {
  return {e, boost::system::system_category()};
}

/// A non-blocking call that did nothing for now: try again once ready (EAGAIN), or at once
/// (EINTR).
inline bool try_again(int e) {
  return e == EAGAIN || e == EWOULDBLOCK || e == EINTR;
}

/// The process itself, not a peer, is out of something: descriptors (EMFILE, ENFILE), socket
/// buffers (ENOBUFS) or memory (ENOMEM). Retrying at once cannot help; waiting may.
bool out_of_resources(const boost::system::error_code& ec);

}  // namespace ipm::proxy
