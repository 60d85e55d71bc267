#include "strategy/outcome.hpp"

namespace ipm::strategy {

namespace {
constexpr int kClientClosedRequest = 499;  // nginx: the client went away first
}

int judged_status(const pool::LogEvent& e) {
  if (e.status == kClientClosedRequest)
    return kClientClosedRequest;
  return e.upstream_status > 0 ? e.upstream_status : e.status;
}

Outcome classify(const pool::LogEvent& e, const config::StatusSet& failures) {
  const int status = judged_status(e);
  if (status == kClientClosedRequest)
    return Outcome::neutral;
  if (failures.contains(status))
    return Outcome::failure;
  if (status >= 100 && status < 400)
    return Outcome::success;
  return Outcome::neutral;
}

Outcome classify(const pool::DialOutcome& d) {
  return d.result == pool::DialResult::ok ? Outcome::neutral : Outcome::failure;
}

}  // namespace ipm::strategy
