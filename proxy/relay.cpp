#include "proxy/relay.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <span>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/write.hpp>

#include "proxy/io_errors.hpp"
#include "proxy/native_socket.hpp"
#include "proxy/splice_burst.hpp"

namespace ipm::proxy {
namespace asio = boost::asio;
using asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

namespace {

struct Direction {
  tcp::socket& from;
  tcp::socket& to;
  pool::ConnectionEnd from_failed;  ///< how the connection ends when `from` errors
  pool::ConnectionEnd to_failed;    ///< how it ends when writing to `to` errors
  prometheus::Counter& counter;
  prometheus::Counter& spliced;
  bool starts_likely;     ///< data is probably waiting when the relay starts
  bool eof_follows_data;  ///< the sender often closes right after its first answer
  std::uint64_t bytes = 0;
};

// Sends what the socket takes at once (MSG_DONTWAIT: no mode switch, no extra syscall) and
// awaits only for the rest. A plain call, not a coroutine: the common case (everything went)
// costs no coroutine frame and no trip through the scheduler.
struct SendNow {
  std::size_t sent = 0;
  boost::system::error_code error;
};

SendNow send_now(tcp::socket& to, const std::byte* data, std::size_t n, int flags = 0) {
  SendNow result;
  const ssize_t sent = ::send(to.native_handle(), data, n, MSG_DONTWAIT | MSG_NOSIGNAL | flags);
  if (sent >= 0)
    result.sent = static_cast<std::size_t>(sent);
  else if (!try_again(errno))
    result.error = errno_code();
  return result;
}

// Awaits the write of what send_now() left: data + [0, n). Returns true when it all went.
asio::awaitable<bool> write_rest(tcp::socket& to, const std::byte* data, std::size_t n) {
  auto [ec, written] = co_await asio::async_write(to, asio::buffer(data, n), kAwait);
  co_return !ec;
}

// The client's bytes read before the dial: sends what the dialer could not, counts them all.
asio::awaitable<bool> forward_first_bytes(Direction& d, Connection& c) {
  const std::byte* data = c.first_bytes.bytes().data() + c.first_sent;
  const std::size_t left = c.first_size - c.first_sent;
  if (left > 0) {
    const SendNow sent = send_now(d.to, data, left);
    if (sent.error ||
        (sent.sent < left && !co_await write_rest(d.to, data + sent.sent, left - sent.sent))) {
      c.abort(d.to_failed);
      co_return false;
    }
  }
  d.bytes += c.first_size;
  d.counter.Increment(static_cast<double>(c.first_size));
  c.first_bytes.reset();
  co_return true;
}

// `from` gave its EOF: shut down writing on `to` so the other side sees it (half-close).
// The last direction to end needs no shutdown: the sockets are closed right after, which sends
// the FIN (nothing is left unread on `to`: it already gave its EOF)... unless bytes were just
// corked with MSG_MORE: shutdown pushes them out with the FIN.
void end_direction(Direction& d, Connection& c, bool corked) {
  if (++c.directions_done < 2 || corked) {
    boost::system::error_code ignored;
    d.to.shutdown(tcp::socket::shutdown_send, ignored);
  }
  c.last_activity = SteadyClock::now();
}

// What a direction knows of its source socket, which decides how it reads.
struct ReadPolicy {
  bool likely;        ///< data is probably waiting (a burst filled the buffer, first bytes)
  bool look_for_eof;  ///< the sender often closes right after its first answer
};

struct Got {
  std::size_t n = 0;
  bool eof = false;     ///< the sender finished (after these `n` bytes)
  bool failed = false;  ///< reading failed: the connection ends
};

// Reads what `from` has next into `space`:
// - when data is likely, recv(2) directly: no operation object, no completion posted through
//   the scheduler; an EAGAIN tells Asio's reactor that nothing is there, so the async read
//   that follows waits without trying a recv(2) first;
// - otherwise Asio's async_read_some: it tries recv once and then waits without another
//   syscall, where a readiness wait would cost an epoll_ctl(MOD) each time;
// - a server that answers and closes (HTTP with Connection: close) has usually sent its FIN
//   by the time its last bytes are read: after the first short read, one more recv finds it,
//   and the relay then sends the bytes and the FIN in one segment (a segment and an ACK fewer
//   per connection, as HAProxy does on EPOLLRDHUP). Only the first short read looks: on a
//   connection that carries many messages the later ones would pay an EAGAIN each.
asio::awaitable<Got> read_next(tcp::socket& from, std::span<std::byte> space, ReadPolicy& policy) {
  ssize_t got = -1;
  if (policy.likely) {
    got = ::recv(from.native_handle(), space.data(), space.size(), 0);
    if (got < 0 && !try_again(errno))
      co_return Got{0, false, true};
    // Nothing to read: the async read below waits without trying a recv(2) first. (A short
    // read does not say as much: an EOF may be waiting behind it, with no readiness event to
    // come.)
    if (got < 0 && errno != EINTR)
      expect_no_data(from);
  }
  if (got < 0) {
    auto [ec, n] = co_await from.async_read_some(asio::buffer(space.data(), space.size()), kAwait);
    if (ec && ec != asio::error::eof)
      co_return Got{0, false, true};
    got = ec ? 0 : static_cast<ssize_t>(n);
  }
  Got result{static_cast<std::size_t>(got), got == 0, false};
  if (!result.eof && policy.look_for_eof && result.n < space.size()) {
    policy.look_for_eof = false;
    const ssize_t more =
        ::recv(from.native_handle(), space.data() + result.n, space.size() - result.n, 0);
    if (more > 0)
      result.n += static_cast<std::size_t>(more);
    result.eof = more == 0;
    if (more < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
      expect_no_data(from);
  }
  co_return result;
}

asio::awaitable<void> transfer(Direction& d, Connection& c, RelayBuffers& buffers) {
  // Small reads use a small buffer held for the direction's life, so an idle connection holds
  // no burst buffer; a read that fills it switches to a burst buffer, given back when a read
  // comes back short (the socket is drained). Both come from the worker's pools: the coroutine
  // frame stays small enough for the allocator's fast path.
  const BufferPool::Lease small = buffers.small.take();
  BufferPool::Lease big;
  ReadPolicy policy{d.starts_likely, d.eof_follows_data};
  bool splice_works = true;
  for (;;) {
    const std::span<std::byte> space = big ? big.bytes() : small.bytes();
    const Got read = co_await read_next(d.from, space, policy);
    if (read.failed) {
      c.abort(d.from_failed);
      co_return;
    }
    const std::size_t n = read.n;
    if (n > 0) {
      c.last_activity = SteadyClock::now();
      const SendNow sent = send_now(d.to, space.data(), n, read.eof ? MSG_MORE : 0);
      if (sent.error ||
          (sent.sent < n && !co_await write_rest(d.to, space.data() + sent.sent, n - sent.sent))) {
        c.abort(d.to_failed);
        co_return;
      }
      d.bytes += n;
      d.counter.Increment(static_cast<double>(n));
      policy.likely = n == space.size();
      if (n < space.size())
        big.reset();
      else if (!big)
        big = buffers.bursts.take();
    }
    if (read.eof) {
      end_direction(d, c, n > 0);
      co_return;
    }
    if (big && policy.likely && buffers.pipes && splice_works) {
      // The burst buffer filled up: a bulk stream. It goes on through a pipe, uncopied.
      PipePool::Lease pipe = buffers.pipes->take();
      if (!pipe)
        continue;  // out of descriptors: copying works too
      const BurstEnd end = co_await splice_burst(
          d.from, d.to, pipe, BurstProgress{d.bytes, d.counter, d.spliced, c.last_activity});
      switch (end) {
        case BurstEnd::slowed:
          policy.likely = false;  // the socket is drained
          big.reset();
          break;
        case BurstEnd::unsupported:
          splice_works = false;
          break;
        case BurstEnd::eof:
          end_direction(d, c, false);
          co_return;
        case BurstEnd::from_failed:
          c.abort(d.from_failed);
          co_return;
        case BurstEnd::to_failed:
          c.abort(d.to_failed);
          co_return;
      }
    }
  }
}

}  // namespace

asio::awaitable<RelayTotals> relay(Connection& c, RelayBuffers& buffers, ProxyMetrics& metrics) {
  c.last_activity = SteadyClock::now();
  c.directions_done = 0;
  // The client's first read came before the dial: more is waiting only if it filled the buffer.
  const bool client_has_more = c.first_bytes && c.first_size == c.first_bytes.bytes().size();
  Direction up{c.client,
               c.egress,
               pool::ConnectionEnd::client_reset,
               pool::ConnectionEnd::egress_reset,
               metrics.bytes_up,
               metrics.spliced_bytes,
               client_has_more,
               false};
  Direction down{c.egress,
                 c.client,
                 pool::ConnectionEnd::egress_reset,
                 pool::ConnectionEnd::client_reset,
                 metrics.bytes_down,
                 metrics.spliced_bytes,
                 false,
                 true};

  // One coroutine per direction, without awaitable operators (each operand would be one more
  // co_spawn, and the group's cancellation state): down runs beside this frame, up runs in it.
  // The spawned one refers to this frame, so the frame waits for its completion handler.
  bool down_running = true;
  std::exception_ptr down_error;
  asio::co_spawn(c.client.get_executor(), transfer(down, c, buffers),
                 [&c, &down_running, &down_error](std::exception_ptr e) {
                   if (e)
                     c.abort(pool::ConnectionEnd::egress_reset);  // ends the other direction
                   down_error = e;
                   down_running = false;
                   c.timer.cancel();
                 });
  std::exception_ptr up_error;
  try {
    if (c.first_size == 0 || co_await forward_first_bytes(up, c))
      co_await transfer(up, c, buffers);
  } catch (...) {
    up_error = std::current_exception();
    c.abort(pool::ConnectionEnd::client_reset);
  }
  while (down_running) {
    c.timer.expires_at(SteadyClock::time_point::max());
    co_await c.timer.async_wait(kAwait);  // cancelled by the handler above (or an abort)
  }
  if (up_error || down_error)
    std::rethrow_exception(up_error ? up_error : down_error);

  RelayTotals totals{up.bytes, down.bytes, c.aborted().value_or(pool::ConnectionEnd::closed)};
  co_return totals;
}

}  // namespace ipm::proxy
