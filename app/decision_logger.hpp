#pragma once

#include "strategy/decision.hpp"

namespace ipm::app {

/// One log line per strategy decision: what changed, for which IP, why, until when.
/// The pool going all-unavailable (and back) is a warning; the rest is info.
void log_decision(const strategy::DecisionRecord& d);

}  // namespace ipm::app
