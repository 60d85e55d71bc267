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

/// Pure classification of a dial: what it says, and about whom (blame()).
/// nginx: any error is a failure; a successful dial is neutral (it reaches the local nginx
/// listener and says nothing about how targets treat the IP).
/// source and upstream: a connection made through the egress is a success; every failed one
/// is a failure, of the egress or of the destination's site (blame()).
/// An active check: only a made connection is a success; any other end is the egress's.
Outcome classify(const pool::DialOutcome& d);

/// Whose failure a failed dial is.
///   egress: the egress's own (a failed bind, a timeout, an unreachable network, an upstream
///           that cannot be reached, breaks its protocol, turns our credentials down or fails
///           in general): it counts against the egress for every site;
///   site:   the destination refused this egress (blame_of_reply()'s site codes, a source's
///           connect the destination reset): a failure of the (egress, destination's site)
///           pair only, as a site's 403 in the access log is. Without a site to charge (no
///           destination host, target_grouping none) it is neutral.
enum class Blame : std::uint8_t { egress, site };

/// Blame of a failed dial (classify() == failure); egress for anything else.
Blame blame(const pool::DialOutcome& d);

/// Blame of an upstream's refusal, by protocol and reply code: a table (the same words mean
/// the same whichever upstream says them).
///   SOCKS5 (RFC 1928): 2 not allowed by its ruleset, 4 host unreachable, 5 connection
///     refused, 6 TTL expired: site. 1 general failure, 3 network unreachable (its own
///     network), 7 command and 8 address type not supported, anything else: egress.
///   SOCKS4: 91 (0x5B) rejected or failed (its one word for both): site. 92 and 93 (its
///     identd): egress.
///   HTTP CONNECT: 403 forbidden (its ACL for that destination), 502 bad gateway, 503 (Squid's
///     connect failure), 504 gateway timeout: site. 407 (our credentials) and any other:
///     egress.
Blame blame_of_reply(config::UpstreamProtocol protocol, int code);

}  // namespace ipm::strategy
