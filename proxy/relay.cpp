#include "proxy/relay.hpp"

#include <algorithm>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace ipm::proxy {
namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;
using asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

namespace {

constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);

/// State shared by the two directions and the watchdog; all on one thread.
struct RelayState {
  Connection& c;
  RelayLimits limits;
  SteadyClock::time_point accepted;
  SteadyClock::time_point last_activity;
  int directions_done = 0;

  void touch() { last_activity = SteadyClock::now(); }

  /// When the connection must be cut unless something happens before.
  SteadyClock::time_point deadline() const {
    auto result = SteadyClock::time_point::max();
    config::Millis inactivity = limits.idle;
    if (directions_done > 0 && limits.closing.count() > 0)
      inactivity = inactivity.count() > 0 ? std::min(inactivity, limits.closing) : limits.closing;
    if (inactivity.count() > 0)
      result = last_activity + inactivity;
    if (limits.lifetime.count() > 0)
      result = std::min(result, accepted + limits.lifetime);
    return result;
  }

  bool lifetime_over(SteadyClock::time_point now) const {
    return limits.lifetime.count() > 0 && now >= accepted + limits.lifetime;
  }
};

struct Direction {
  tcp::socket& from;
  tcp::socket& to;
  pool::ConnectionEnd from_failed;  ///< how the connection ends when `from` errors
  pool::ConnectionEnd to_failed;    ///< how it ends when writing to `to` errors
  prometheus::Counter& counter;
  std::uint64_t bytes = 0;
};

asio::awaitable<void> transfer(Direction& d, RelayState& st, BufferPool& buffers) {
  BufferPool::Lease buffer;
  for (;;) {
    if (!buffer) {
      // Wait for bytes before borrowing a buffer: idle connections hold none.
      auto [ec] = co_await d.from.async_wait(tcp::socket::wait_read, kAwait);
      if (ec) {
        st.c.abort(d.from_failed);
        co_return;
      }
      buffer = buffers.take();
    }
    const auto space = buffer.bytes();
    auto [ec, n] =
        co_await d.from.async_read_some(asio::buffer(space.data(), space.size()), kAwait);
    if (ec == asio::error::eof) {
      boost::system::error_code ignored;
      d.to.shutdown(tcp::socket::shutdown_send, ignored);
      ++st.directions_done;
      st.touch();
      st.c.timer.cancel();  // the watchdog recomputes its deadline for the closing phase
      co_return;
    }
    if (ec) {
      st.c.abort(d.from_failed);
      co_return;
    }
    st.touch();
    auto [wec, written] = co_await asio::async_write(d.to, asio::buffer(space.data(), n), kAwait);
    if (wec) {
      st.c.abort(d.to_failed);
      co_return;
    }
    d.bytes += written;
    d.counter.Increment(static_cast<double>(written));
    st.touch();
    if (n < space.size())
      buffer.reset();  // drained what was there: give the buffer back until more arrives
  }
}

asio::awaitable<void> watchdog(RelayState& st) {
  for (;;) {
    if (st.directions_done == 2 || st.c.aborted())
      co_return;
    const auto deadline = st.deadline();
    const auto now = SteadyClock::now();
    if (now >= deadline) {
      st.c.abort(st.lifetime_over(now) ? pool::ConnectionEnd::lifetime
                                       : pool::ConnectionEnd::idle_timeout);
      co_return;
    }
    st.c.timer.expires_at(deadline);
    co_await st.c.timer.async_wait(kAwait);  // woken early by a half-close or an abort
  }
}

}  // namespace

asio::awaitable<RelayTotals> relay(Connection& c, RelayLimits limits, BufferPool& buffers,
                                   ProxyMetrics& metrics, SteadyClock::time_point accepted) {
  RelayState st{c, limits, accepted, SteadyClock::now()};
  Direction up{c.client, c.egress, pool::ConnectionEnd::client_reset,
               pool::ConnectionEnd::egress_reset, metrics.bytes_up};
  Direction down{c.egress, c.client, pool::ConnectionEnd::egress_reset,
                 pool::ConnectionEnd::client_reset, metrics.bytes_down};

  co_await ((transfer(up, st, buffers) && transfer(down, st, buffers)) || watchdog(st));

  RelayTotals totals{up.bytes, down.bytes, c.aborted().value_or(pool::ConnectionEnd::closed)};
  co_return totals;
}

}  // namespace ipm::proxy
