#include "strategy/decision.hpp"

namespace ipm::strategy {

std::string_view to_string(DecisionKind k) {
  switch (k) {
    case DecisionKind::eject:
      return "eject";
    case DecisionKind::eject_capped:
      return "eject_capped";
    case DecisionKind::probation:
      return "probation";
    case DecisionKind::recover:
      return "recover";
    case DecisionKind::probation_failed:
      return "probation_failed";
    case DecisionKind::backoff_decayed:
      return "backoff_decayed";
    case DecisionKind::manual_ban:
      return "manual_ban";
    case DecisionKind::manual_unban:
      return "manual_unban";
    case DecisionKind::manual_reset:
      return "manual_reset";
    case DecisionKind::manual_weight:
      return "manual_weight";
    case DecisionKind::manual_disable:
      return "manual_disable";
    case DecisionKind::manual_enable:
      return "manual_enable";
    case DecisionKind::address_gone:
      return "address_gone";
    case DecisionKind::address_back:
      return "address_back";
    case DecisionKind::site_evicted:
      return "site_evicted";
    case DecisionKind::ip_added:
      return "ip_added";
    case DecisionKind::ip_removed:
      return "ip_removed";
    case DecisionKind::all_unavailable_enter:
      return "all_unavailable_enter";
    case DecisionKind::all_unavailable_leave:
      return "all_unavailable_leave";
  }
  return "?";
}

std::string_view to_string(CauseKind k) {
  switch (k) {
    case CauseKind::log_event:
      return "log_event";
    case CauseKind::dial_outcome:
      return "dial_outcome";
    case CauseKind::time:
      return "time";
    case CauseKind::manual:
      return "manual";
    case CauseKind::reload:
      return "reload";
  }
  return "?";
}

std::string format_duration(std::chrono::nanoseconds d) {
  using namespace std::chrono;
  if (d < nanoseconds::zero())
    return "-" + format_duration(-d);
  if (d < seconds(1))
    return std::to_string(duration_cast<milliseconds>(d).count()) + "ms";
  auto s = duration_cast<seconds>(d).count();
  std::string out;
  if (s >= 3600) {
    out += std::to_string(s / 3600) + "h";
    s %= 3600;
  }
  if (s >= 60) {
    out += std::to_string(s / 60) + "m";
    s %= 60;
  }
  if (s > 0 || out.empty())
    out += std::to_string(s) + "s";
  return out;
}

}  // namespace ipm::strategy
