#pragma once

#include <string>

#include "pool/time.hpp"
#include "strategy/decision.hpp"

namespace ipm::probe {

/// Appends a strategy decision as a JSON object: seq, time, ip, kind, from, to, reason,
/// cause, until (null when the decision has no end or it is open-ended).
void append_decision_json(std::string& out, const strategy::DecisionRecord& d);

/// Appends `t` as append_json_time does, or null for an unset time (TimePoint{}).
void append_json_time_or_null(std::string& out, pool::TimePoint t);

}  // namespace ipm::probe
