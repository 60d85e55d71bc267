#pragma once

#include "pool/operator_action.hpp"
#include "probe/context.hpp"
#include "probe/message.hpp"

namespace ipm::probe {

/// The one path of every operator action (ban, unban, reset, weight), from the API or the
/// web page, after probe::refuse() allowed the request: the IP must be in the pool (404),
/// the action is made durable by context.journal (503 "not applied" when it cannot be),
/// applied to the engine at its own time, and answered with the IP's detail as JSON (200).
Response run_operator_action(Context& context, pool::OperatorAction action);

}  // namespace ipm::probe
