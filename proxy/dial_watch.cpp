#include "proxy/dial_watch.hpp"

namespace ipm::proxy {

DialWatch::DialWatch(const boost::asio::any_io_executor& executor, config::Millis timeout)
    : timeout_(timeout), timer_(executor) {}

void DialWatch::watch(Connection& c, Clock::time_point started) {
  c.dial_deadline = started + timeout_;
  c.dial_expired = false;
  dials_.push_back(c);
  if (!armed_)
    arm();
}

void DialWatch::unwatch(Connection& c) {
  if (c.dial_hook.is_linked())
    dials_.erase(dials_.iterator_to(c));
  if (stopping_ && dials_.empty())
    timer_.cancel();
}

void DialWatch::stop() {
  stopping_ = true;
  if (dials_.empty())
    timer_.cancel();
}

void DialWatch::arm() {
  armed_ = true;
  timer_.expires_at(dials_.front().dial_deadline);
  // The handler touches only this DialWatch, which outlives the worker's io_context run.
  timer_.async_wait([this](const boost::system::error_code&) {
    armed_ = false;
    check(Clock::now());
  });
}

void DialWatch::check(Clock::time_point now) {
  while (!dials_.empty() && dials_.front().dial_deadline <= now) {
    Connection& c = dials_.front();
    dials_.pop_front();
    c.dial_expired = true;
    boost::system::error_code ignored;
    c.egress.cancel(ignored);  // the dialer's wait completes with operation_aborted
    c.client.cancel(ignored);  // so does a handshake's read (nothing else waits on it then)
  }
  // Cancelled (stop) or fired: either way a dial still watched needs the timer.
  if (!dials_.empty() && !armed_)
    arm();
}

}  // namespace ipm::proxy
