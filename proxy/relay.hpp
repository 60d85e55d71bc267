#pragma once

#include <chrono>
#include <cstdint>

#include <boost/asio/awaitable.hpp>

#include "config/duration.hpp"
#include "pool/decision_log.hpp"
#include "proxy/buffer_pool.hpp"
#include "proxy/connection.hpp"
#include "proxy/metrics.hpp"

namespace ipm::proxy {

/// Time limits of a relay; a zero duration means "no limit".
struct RelayLimits {
  config::Millis idle{0};      ///< no byte either way for this long: cut (`idle_timeout`)
  config::Millis closing{0};   ///< once one side has half-closed, the inactivity limit becomes
                               ///< min(idle, closing) (`close_timeout`)
  config::Millis lifetime{0};  ///< total life from accept (`max_connection_timeout`)
};

struct RelayTotals {
  std::uint64_t bytes_up = 0;    ///< client -> egress
  std::uint64_t bytes_down = 0;  ///< egress -> client
  pool::ConnectionEnd end = pool::ConnectionEnd::closed;
};

/// Relays bytes both ways between `c.client` and the connected `c.egress` until both sides
/// have finished or the connection is aborted. EOF on one side shuts down writing on the
/// other and the other direction goes on (half-close). An error on one side resets the other.
/// The client's first bytes, read before the dial, are counted and whatever of them the
/// dialer did not send goes first.
/// Each direction holds at most one pooled buffer, borrowed only during a burst (small reads
/// use a 2 KB buffer in the coroutine frame), so a peer that stops reading stops the reading
/// from the other side (back-pressure) and an idle connection holds no pooled buffer. Keeps
/// `c.directions_done` and `c.last_activity` up to date; the time limits are enforced by the
/// worker's RelayWatch, which aborts the Connection. Runs on the Connection's executor (one
/// thread).
boost::asio::awaitable<RelayTotals> relay(Connection& c, BufferPool& buffers,
                                          ProxyMetrics& metrics);

}  // namespace ipm::proxy
