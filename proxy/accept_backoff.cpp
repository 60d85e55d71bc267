#include "proxy/accept_backoff.hpp"

#include <algorithm>

namespace ipm::proxy {

config::Millis AcceptBackoff::failed(Clock::time_point now) {
  if (failures_++ == 0)
    started_ = now;
  const config::Millis wait = next_;
  next_ = std::min(next_ * 2, kCap);
  return wait;
}

std::optional<AcceptBackoff::Episode> AcceptBackoff::drained(Clock::time_point now) {
  if (failures_ == 0)
    return std::nullopt;
  Episode e{failures_, now - started_};
  failures_ = 0;
  next_ = kFirst;
  return e;
}

}  // namespace ipm::proxy
