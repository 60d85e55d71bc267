#include "pool/decision_log.hpp"

#include <algorithm>

namespace ipm::pool {

std::string_view to_string(ConnectionEnd e) {
  switch (e) {
    case ConnectionEnd::closed:
      return "closed";
    case ConnectionEnd::client_reset:
      return "client_reset";
    case ConnectionEnd::egress_reset:
      return "egress_reset";
    case ConnectionEnd::idle_timeout:
      return "idle_timeout";
    case ConnectionEnd::lifetime:
      return "lifetime";
    case ConnectionEnd::dial_failed:
      return "dial_failed";
    case ConnectionEnd::no_egress:
      return "no_egress";
    case ConnectionEnd::shutdown:
      return "shutdown";
    case ConnectionEnd::handshake_failed:
      return "handshake_failed";
    case ConnectionEnd::refused:
      return "refused";
  }
  return "closed";
}

DecisionLog::DecisionLog(std::size_t capacity) : capacity_(std::max<std::size_t>(capacity, 1)) {}

void DecisionLog::record(Decision d) {
  std::lock_guard lock(mutex_);
  if (ring_.size() == capacity_)
    ring_.pop_front();
  ring_.push_back(std::move(d));
  ++total_;
}

std::vector<Decision> DecisionLog::latest(std::size_t limit) const {
  std::lock_guard lock(mutex_);
  const std::size_t n = std::min(limit, ring_.size());
  return {ring_.rbegin(), ring_.rbegin() + static_cast<std::ptrdiff_t>(n)};
}

std::uint64_t DecisionLog::total() const {
  std::lock_guard lock(mutex_);
  return total_;
}

}  // namespace ipm::pool
