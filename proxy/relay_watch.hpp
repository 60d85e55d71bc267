#pragma once

#include <chrono>
#include <cstddef>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include "proxy/connection.hpp"
#include "proxy/relay.hpp"

namespace ipm::proxy {

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

  /// When `c` must be cut unless a byte moves before (time_point::max(): never).
  std::chrono::steady_clock::time_point deadline(const Connection& c) const;

 private:
  void arm();
  void check();

  const RelayLimits limits_;
  const std::chrono::steady_clock::duration period_;
  ConnectionList& connections_;
  boost::asio::steady_timer timer_;
  std::size_t relays_ = 0;
  bool armed_ = false;
  bool stopping_ = false;
};

}  // namespace ipm::proxy
