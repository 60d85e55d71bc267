#include "app/decision_logger.hpp"

#include "app/log.hpp"

namespace ipm::app {

void log_decision(const strategy::DecisionRecord& d) {
  using strategy::DecisionKind;
  const bool pool_level = d.kind == DecisionKind::all_unavailable_enter ||
                          d.kind == DecisionKind::all_unavailable_leave;
  LogLine line(d.kind == DecisionKind::all_unavailable_enter ? Level::warn : Level::info);
  line << "decision " << strategy::to_string(d.kind);
  if (!pool_level) {
    line << " " << d.ip;
    if (!d.site.empty())
      line << " for " << d.site;
    line << " (" << pool::to_string(d.from) << " -> " << pool::to_string(d.to) << ")";
  }
  if (!d.reason.empty())
    line << ": " << d.reason;
  if (d.until > d.time)
    line << "; for " << strategy::format_duration(d.until - d.time);
}

}  // namespace ipm::app
