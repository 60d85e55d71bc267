#pragma once

#include <chrono>
#include <cstdint>

#include <prometheus/counter.h>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "proxy/pipe_pool.hpp"

namespace ipm::proxy {

/// How a spliced burst ended.
enum class BurstEnd : std::uint8_t {
  slowed,       ///< the stream no longer comes in bulk: back to copying; the pipe is empty
  eof,          ///< `from` reached EOF; everything before it was delivered
  from_failed,  ///< reading `from` failed (or the wait on it was cancelled)
  to_failed,    ///< writing `to` failed (or the wait on it was cancelled)
  unsupported,  ///< splice(2) refused these descriptors before moving a byte: keep copying
};

/// Where a burst reports its progress as it goes (a burst may last as long as the connection).
struct BurstProgress {
  std::uint64_t& bytes;
  prometheus::Counter& relayed;  ///< the direction's relayed bytes
  prometheus::Counter& spliced;  ///< every direction's spliced bytes
  std::chrono::steady_clock::time_point& last_activity;
};

/// Moves a bulk stream from `from` to `to` through `pipe` with splice(2): the bytes go from one
/// socket's receive queue to the other's send queue without being copied through user space
/// (HAProxy's "splice-auto" idea). Called once a read has filled the relay's burst buffer.
/// The pipe holds at most its capacity (64 KB), so a peer that stops reading stops the reading
/// here too (back-pressure). Waits for readiness through Asio when a socket is not ready; ends
/// when a wakeup brings less than a bulk stream would (see kSlowBurst in the source), at EOF or
/// on an error. Runs on the sockets' executor; the pipe's `held` says what it still holds.
boost::asio::awaitable<BurstEnd> splice_burst(boost::asio::ip::tcp::socket& from,
                                              boost::asio::ip::tcp::socket& to,
                                              PipePool::Lease& pipe, BurstProgress progress);

}  // namespace ipm::proxy
