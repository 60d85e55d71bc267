#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/intrusive/list.hpp>

#include "config/duration.hpp"
#include "proxy/connection.hpp"

namespace ipm::proxy {

/// The dial timeout of every connection one worker is dialling, kept with a single timer.
/// All dials share one timeout, so their deadlines come in the order they started and a FIFO
/// does the work of a timer queue. The timer is armed at the oldest deadline and re-armed only
/// when it fires: a dial costs no timer operation and no timerfd syscall (a timer per dial
/// re-arms Asio's timerfd whenever the earliest deadline changes). When a deadline passes, the
/// Connection's `dial_expired` is set and the waits on its sockets are cancelled.
/// The socks and http front ends keep their handshake timeout with a DialWatch of their own:
/// a connection is in its handshake or in its dial, never both.
/// Not thread-safe: used from its worker's thread only.
class DialWatch {
 public:
  DialWatch(const boost::asio::any_io_executor& executor, config::Millis timeout);
  DialWatch(const DialWatch&) = delete;
  DialWatch& operator=(const DialWatch&) = delete;

  using Clock = std::chrono::steady_clock;

  /// Starts the clock for `c` (which must not be watched already): its dial began at `started`.
  void watch(Connection& c, Clock::time_point started);
  /// Stops it; harmless when `c` already expired.
  void unwatch(Connection& c);
  /// From now on the timer is left disarmed whenever no dial is watched, so the worker's
  /// io_context can run out of work.
  void stop();

  /// Expires every dial whose deadline is `now` or earlier: sets its `dial_expired` and
  /// cancels the waits on its sockets. The timer calls it; tests call it with their time.
  void check(Clock::time_point now);

 private:
  using List = boost::intrusive::list<
      Connection, boost::intrusive::member_hook<Connection, DialHook, &Connection::dial_hook>,
      boost::intrusive::constant_time_size<false>>;

  void arm();

  const config::Millis timeout_;
  boost::asio::steady_timer timer_;
  List dials_;
  bool armed_ = false;
  bool stopping_ = false;
};

}  // namespace ipm::proxy
