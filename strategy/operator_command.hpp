#pragma once

#include <vector>

#include "pool/operator_action.hpp"
#include "strategy/engine.hpp"

namespace ipm::strategy {

/// Runs an operator action on the engine at the action's own time (ban, unban, reset,
/// weight, disable, enable), for one site of the IP when it names a target (weights and
/// disable/enable are per egress). False when the IP is not in the
/// pool.
bool apply(Engine& engine, const pool::OperatorAction& action);
/// The same, with what a command on one site answered (done for actions on a whole egress
/// that found the IP; unknown_ip when they did not).
SiteCommand apply_for_site(Engine& engine, const pool::OperatorAction& action);

/// What a sequence of actions leaves in force at `now`, in order: per IP the last weight and
/// the last disable unless an enable came after it, and per (IP, target) the last ban unless an
/// unban or reset of that same scope came after it or it has expired (the engine's unban of a whole
/// IP leaves its per-site bans alone). Unbans and resets themselves leave nothing to keep (the logs
/// rebuild the rest). This is what the journal keeps when it is compacted at startup.
std::vector<pool::OperatorAction> in_force(const std::vector<pool::OperatorAction>& actions,
                                           pool::TimePoint now);

}  // namespace ipm::strategy
