#pragma once

#include <chrono>
#include <cstdint>

#include <boost/asio/awaitable.hpp>

#include "config/duration.hpp"
#include "pool/decision_log.hpp"
#include "proxy/buffer_pool.hpp"
#include "proxy/connection.hpp"
#include "proxy/metrics.hpp"
#include "proxy/pipe_pool.hpp"

namespace ipm::proxy {

/// Time limits of a relay; a zero duration means "no limit".
struct RelayLimits {
  config::Millis idle{0};      ///< no byte either way for this long: cut (`idle_timeout`)
  config::Millis closing{0};   ///< once one side has half-closed, the inactivity limit becomes
                               ///< min(idle, closing) (`close_timeout`)
  config::Millis lifetime{0};  ///< total life from accept (`max_connection_timeout`)
};

/// The buffer pools of one worker that its relays borrow from.
struct RelayBuffers {
  BufferPool& bursts;  ///< large buffers, borrowed while a direction moves a burst
  BufferPool& small;   ///< small buffers, held by each direction for its whole life
  PipePool* pipes;     ///< pipes for splice(2) once a burst fills its buffer; null: copy only
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
/// Each direction holds a small buffer and at most one burst buffer, borrowed only during a
/// burst; a burst that fills its buffer goes on through a pipe with splice(2) (see
/// splice_burst()). A peer that stops reading stops the reading from the other side
/// (back-pressure), and an idle connection holds only its two small buffers. Keeps
/// `c.directions_done` and `c.last_activity` up to date; the time limits are enforced by the
/// worker's RelayWatch, which aborts the Connection. Runs on the Connection's executor (one
/// thread).
boost::asio::awaitable<RelayTotals> relay(Connection& c, RelayBuffers& buffers,
                                          ProxyMetrics& metrics);

}  // namespace ipm::proxy
