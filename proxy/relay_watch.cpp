#include "proxy/relay_watch.hpp"

#include <algorithm>

namespace ipm::proxy {
using SteadyClock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

SteadyClock::duration check_period(const RelayLimits& l) {
  config::Millis shortest = config::Millis::max();
  for (const config::Millis limit : {l.idle, l.closing, l.lifetime}) {
    if (limit.count() > 0)
      shortest = std::min(shortest, limit);
  }
  if (shortest == config::Millis::max())
    return SteadyClock::duration::zero();  // no limit: nothing to check
  return std::clamp<SteadyClock::duration>(shortest / 8, 10ms, 1s);
}

}  // namespace

RelayWatch::RelayWatch(const boost::asio::any_io_executor& executor, RelayLimits limits,
                       ConnectionList& connections)
    : limits_(limits), period_(check_period(limits)), connections_(connections), timer_(executor) {}

void RelayWatch::started() {
  ++relays_;
  if (!armed_ && period_ != SteadyClock::duration::zero())
    arm();
}

void RelayWatch::ended() {
  if (--relays_ == 0 && stopping_)
    timer_.cancel();
}

void RelayWatch::stop() {
  stopping_ = true;
  if (relays_ == 0)
    timer_.cancel();
}

SteadyClock::time_point RelayWatch::deadline(const Connection& c) const {
  auto result = SteadyClock::time_point::max();
  config::Millis inactivity = limits_.idle;
  if (c.directions_done > 0 && limits_.closing.count() > 0)
    inactivity = inactivity.count() > 0 ? std::min(inactivity, limits_.closing) : limits_.closing;
  if (inactivity.count() > 0)
    result = c.last_activity + inactivity;
  if (limits_.lifetime.count() > 0)
    result = std::min(result, c.accepted + limits_.lifetime);
  return result;
}

void RelayWatch::arm() {
  armed_ = true;
  timer_.expires_after(period_);
  // The handler touches only this RelayWatch, which outlives the worker's io_context run.
  timer_.async_wait([this](const boost::system::error_code&) { check(); });
}

void RelayWatch::check() {
  armed_ = false;
  const auto now = SteadyClock::now();
  for (Connection& c : connections_) {
    if (!c.relaying || c.aborted() || now < deadline(c))
      continue;
    const bool lifetime = limits_.lifetime.count() > 0 && now >= c.accepted + limits_.lifetime;
    c.abort(lifetime ? pool::ConnectionEnd::lifetime : pool::ConnectionEnd::idle_timeout);
  }
  // Cancelled (stop) or fired: either way a running relay needs the next check.
  if (relays_ > 0)
    arm();
}

}  // namespace ipm::proxy
