#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "pool/event.hpp"
#include "pool/ip_state.hpp"
#include "pool/time.hpp"

namespace ipm::strategy {

/// What the engine decided. Each is recorded once, with its reason and its cause.
enum class DecisionKind : std::uint8_t {
  eject,                  ///< available -> cooling after consecutive failures
  eject_capped,           ///< would have ejected, but max_ejected_percent is reached: stays in
  probation,              ///< cooling (or an expired manual ban) -> probation
  recover,                ///< probation -> available on the first success
  probation_failed,       ///< probation -> cooling, cooldown doubled
  backoff_decayed,        ///< a healthy stretch halved the backoff multiplier
  manual_ban,             ///< operator ban
  manual_unban,           ///< operator unban -> available
  manual_reset,           ///< operator reset: backoff and counts forgotten, -> available
  manual_weight,          ///< operator weight (0 drains: no new connections); state unchanged
  manual_disable,         ///< operator disable: no new connections until enabled; state unchanged
  manual_enable,          ///< operator enable: selectable again as its state allows
  address_gone,           ///< a source's address or link left the host: out of selection
  address_back,           ///< it returned: back in selection, in the state it had
  site_evicted,           ///< a site's state dropped by the max_sites_per_ip cap
  ip_added,               ///< appeared in the upstream config on reload
  ip_removed,             ///< vanished from the upstream config on reload
  all_unavailable_enter,  ///< no IP available or on probation any more
  all_unavailable_leave,  ///< some IP is selectable again
};

std::string_view to_string(DecisionKind k);

/// What caused a decision.
enum class CauseKind : std::uint8_t { log_event, dial_outcome, time, manual, reload };

std::string_view to_string(CauseKind k);

struct Cause {
  CauseKind kind = CauseKind::time;
  pool::TimePoint time{};   ///< the event's own time (for `time`: the deadline that passed)
  int status = 0;           ///< log_event: $status
  int upstream_status = 0;  ///< log_event: $upstream_status (0 when absent)
  pool::DialResult dial = pool::DialResult::ok;  ///< dial_outcome
  int upstream_code = -1;                        ///< dial_outcome: an upstream's reply code
};

/// One decision, for /api JSON, logs and counters. `ip` is empty for pool-level decisions
/// (all_unavailable_*).
struct DecisionRecord {
  std::uint64_t seq = 0;   ///< 1, 2, ... per engine
  pool::TimePoint time{};  ///< when the decision takes effect (event time)
  std::string ip;
  /// The site the decision is about ("a.example"); empty when it is about the egress as a
  /// whole. from/to are then the IP's state for that site only.
  std::string site{};
  DecisionKind kind = DecisionKind::eject;
  pool::IpState from = pool::IpState::available;
  pool::IpState to = pool::IpState::available;
  std::string reason;  ///< human-readable: "3 failures within 5m0s, last status 429"
  Cause cause;
  /// eject / probation_failed / manual_ban: the end of the period out of traffic.
  pool::TimePoint until{};
  double backoff_multiplier = 1.0;
};

/// "1h2m3s", "250ms": short human form of a duration for reasons and logs.
std::string format_duration(std::chrono::nanoseconds d);

}  // namespace ipm::strategy
