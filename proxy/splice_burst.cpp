#include "proxy/splice_burst.hpp"

#include <fcntl.h>

#include <cerrno>
#include <cstddef>

#include "proxy/io_errors.hpp"

namespace ipm::proxy {
namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

constexpr unsigned kFlags = SPLICE_F_MOVE | SPLICE_F_NONBLOCK;
// A pipe holds 64 KB by default: each fill asks for all of it.
constexpr std::size_t kPipeChunk = 64 * 1024;
// A wakeup that brings less than this is not a bulk stream: copying through the relay's
// buffers costs less than a readiness wait (one epoll_ctl) per small message.
constexpr std::size_t kSlowBurst = 16 * 1024;

bool retry(int error) {
  return error == EINTR;
}

}  // namespace

asio::awaitable<BurstEnd> splice_burst(tcp::socket& from, tcp::socket& to, PipePool::Lease& pipe,
                                       BurstProgress progress) {
  bool moved_any = false;
  bool waited = false;
  std::size_t since_wait = 0;
  for (;;) {
    // Fill the (empty) pipe from `from`.
    const ssize_t in =
        ::splice(from.native_handle(), nullptr, pipe.write_end(), nullptr, kPipeChunk, kFlags);
    bool eof = false;
    if (in > 0) {
      pipe.held += static_cast<std::size_t>(in);
      since_wait += static_cast<std::size_t>(in);
    } else if (in == 0) {
      eof = true;
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      if (waited && since_wait < kSlowBurst)
        co_return BurstEnd::slowed;
      auto [ec] = co_await from.async_wait(tcp::socket::wait_read, kAwait);
      if (ec)
        co_return BurstEnd::from_failed;
      waited = true;
      since_wait = 0;
      continue;
    } else if (retry(errno)) {
      continue;
    } else if (!moved_any && (errno == EINVAL || errno == ENOSYS)) {
      co_return BurstEnd::unsupported;
    } else {
      co_return BurstEnd::from_failed;
    }

    // Drain it into `to`.
    while (pipe.held > 0) {
      const ssize_t out =
          ::splice(pipe.read_end(), nullptr, to.native_handle(), nullptr, pipe.held, kFlags);
      if (out > 0) {
        const auto n = static_cast<std::size_t>(out);
        pipe.held -= n;
        moved_any = true;
        progress.bytes += n;
        progress.relayed.Increment(static_cast<double>(n));
        progress.spliced.Increment(static_cast<double>(n));
        progress.last_activity = std::chrono::steady_clock::now();
      } else if (out < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        auto [ec] = co_await to.async_wait(tcp::socket::wait_write, kAwait);
        if (ec)
          co_return BurstEnd::to_failed;
      } else if (out < 0 && retry(errno)) {
        continue;
      } else {
        co_return BurstEnd::to_failed;
      }
    }
    if (eof)
      co_return BurstEnd::eof;
  }
}

}  // namespace ipm::proxy
