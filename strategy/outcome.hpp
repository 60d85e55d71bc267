#pragma once

#include <cstdint>
#include <string_view>

#include "config/config.hpp"
#include "pool/event.hpp"

namespace ipm::strategy {

/// What one event says about the health of its egress IP.
enum class Outcome : std::uint8_t {
  success,  ///< 1xx-3xx: resets the failure count, ends probation
  failure,  ///< a configured failure status, or a proxy dial failure
  neutral,  ///< 404 and other 4xx, client aborts (499), a successful dial, unknown status
};

constexpr std::string_view to_string(Outcome o) {
  switch (o) {
    case Outcome::success:
      return "success";
    case Outcome::failure:
      return "failure";
    case Outcome::neutral:
      return "neutral";
  }
  return "neutral";
}

/// The status that judges the IP: `$upstream_status` when nginx got one (it is what the
/// target answered to the egress IP), `$status` otherwise (nginx's own 502/504 when the
/// egress connect failed). 499 (the client went away) is neutral whatever the upstream said.
int judged_status(const pool::LogEvent& e);

/// Pure classification of a log line; `failures` is config `failure_statuses`.
Outcome classify(const pool::LogEvent& e, const config::StatusSet& failures);

/// Pure classification of a dial: any error is a failure; a successful dial is neutral (it
/// reaches the local nginx listener and says nothing about how targets treat the IP).
Outcome classify(const pool::DialOutcome& d);

}  // namespace ipm::strategy
