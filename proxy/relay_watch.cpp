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

SteadyClock::time_point relay_deadline(const RelayLimits& limits, const RelayTimes& t) {
  auto result = SteadyClock::time_point::max();
  config::Millis inactivity = limits.idle;
  if (t.closing && limits.closing.count() > 0)
    inactivity = inactivity.count() > 0 ? std::min(inactivity, limits.closing) : limits.closing;
  if (inactivity.count() > 0)
    result = t.last_activity + inactivity;
  if (limits.lifetime.count() > 0)
    result = std::min(result, t.accepted + limits.lifetime);
  return result;
}

std::optional<pool::ConnectionEnd> relay_verdict(const RelayLimits& limits, const RelayTimes& t,
                                                 SteadyClock::time_point now) {
  if (now < relay_deadline(limits, t))
    return std::nullopt;
  const bool lifetime = limits.lifetime.count() > 0 && now >= t.accepted + limits.lifetime;
  return lifetime ? pool::ConnectionEnd::lifetime : pool::ConnectionEnd::idle_timeout;
}

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

void RelayWatch::arm() {
  armed_ = true;
  timer_.expires_after(period_);
  // The handler touches only this RelayWatch, which outlives the worker's io_context run.
  timer_.async_wait([this](const boost::system::error_code&) {
    armed_ = false;
    check(SteadyClock::now());
  });
}

void RelayWatch::check(SteadyClock::time_point now) {
  for (Connection& c : connections_) {
    if (!c.relaying || c.aborted())
      continue;
    if (const auto end =
            relay_verdict(limits_, {c.accepted, c.last_activity, c.directions_done > 0}, now))
      c.abort(*end);
  }
  // Cancelled (stop) or fired: either way a running relay needs the next check.
  if (relays_ > 0 && !armed_ && period_ != SteadyClock::duration::zero())
    arm();
}

}  // namespace ipm::proxy
