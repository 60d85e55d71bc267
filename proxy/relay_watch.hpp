#pragma once

#include <chrono>
#include <cstddef>
#include <optional>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include "proxy/connection.hpp"
#include "proxy/relay.hpp"

namespace ipm::proxy {

/// What the relay limits look at in one connection.
struct RelayTimes {
  std::chrono::steady_clock::time_point accepted;
  std::chrono::steady_clock::time_point last_activity;  ///< the last byte either way
  bool closing = false;                                 ///< one side has half-closed
};

/// When the connection must be cut unless a byte moves before (time_point::max(): never):
/// `idle` after its last byte, min(idle, closing) once one side has half-closed, `lifetime`
/// after accept; a zero limit is no limit. Pure.
std::chrono::steady_clock::time_point relay_deadline(const RelayLimits& limits,
                                                     const RelayTimes& t);

/// How the limits end the connection at `now` (lifetime or idle_timeout), if they do. Pure.
std::optional<pool::ConnectionEnd> relay_verdict(const RelayLimits& limits, const RelayTimes& t,
                                                 std::chrono::steady_clock::time_point now);

/// The idle, closing-phase and lifetime limits (RelayLimits) of every relaying connection of
/// one worker, checked by one periodic timer instead of a watchdog timer per connection: a
/// relay costs no timer operation (a per-connection watchdog is a timer-queue insert and a
/// cancel, and with awaitable operators two more coroutines). The check runs every eighth of
/// the shortest limit, between 10 ms and 1 s, so a limit is enforced at most that late. The
/// timer runs only while some connection relays. Not thread-safe: its worker's thread only.
class RelayWatch {
 public:
  RelayWatch(const boost::asio::any_io_executor& executor, RelayLimits limits,
             ConnectionList& connections);
  RelayWatch(const RelayWatch&) = delete;
  RelayWatch& operator=(const RelayWatch&) = delete;

  /// A relay starts / ends (counted, so the timer runs only while some relay does).
  void started();
  void ended();
  /// From now on the timer is cancelled as soon as no relay runs, so the worker's io_context
  /// can run out of work.
  void stop();

  /// Aborts every relaying connection that relay_verdict() ends at `now`. The timer calls
  /// it; tests call it with their time.
  void check(std::chrono::steady_clock::time_point now);

 private:
  void arm();

  const RelayLimits limits_;
  const std::chrono::steady_clock::duration period_;
  ConnectionList& connections_;
  boost::asio::steady_timer timer_;
  std::size_t relays_ = 0;
  bool armed_ = false;
  bool stopping_ = false;
};

}  // namespace ipm::proxy
