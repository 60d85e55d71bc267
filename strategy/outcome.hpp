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

/// Pure classification of a dial.
/// nginx: any error is a failure; a successful dial is neutral (it reaches the local nginx
/// listener and says nothing about how targets treat the IP).
/// source and upstream: a connection made through the egress is a success. What only the
/// destination decides is neutral: a refused connect of a source (the destination's RST), an
/// upstream's "refused", "host unreachable" or "not allowed" (SOCKS5 5, 4, 2), SOCKS4's
/// single failure code 91, an HTTP upstream's 502 or 504. Everything else (a failed bind, a
/// timeout, an unreachable network, an upstream that cannot be reached, breaks its protocol
/// or turns our credentials down, its general failure) is the egress's failure.
Outcome classify(const pool::DialOutcome& d);

/// Whether an upstream's reply code says something about the destination only (see above).
bool destination_refusal(config::UpstreamProtocol protocol, int code);

}  // namespace ipm::strategy
