#pragma once

#include <cstdint>
#include <string_view>

#include "pool/bounded_ring.hpp"
#include "pool/history_ring.hpp"
#include "pool/time.hpp"

namespace ipm::pool {

/// Why an IP was taken out of traffic.
enum class CooldownReason : std::uint8_t {
  failures,           ///< consecutive failures within the window (log statuses)
  dial_failures,      ///< the streak that tripped ended with a proxy dial failure
  probation_failure,  ///< failed while on probation: cooldown doubled
  manual,             ///< operator ban
  many_sites,         ///< failures on failing_sites_to_eject distinct sites within the window
};

constexpr std::string_view to_string(CooldownReason r) {
  switch (r) {
    case CooldownReason::failures:
      return "failures";
    case CooldownReason::dial_failures:
      return "dial_failures";
    case CooldownReason::probation_failure:
      return "probation_failure";
    case CooldownReason::manual:
      return "manual";
    case CooldownReason::many_sites:
      return "many_sites";
  }
  return "failures";
}

/// One period out of traffic. `end` is the planned end (TimePoint::max() for an open-ended
/// manual ban); an early unban or reset does not rewrite it.
struct CooldownRecord {
  TimePoint start{};
  TimePoint end{};
  CooldownReason reason = CooldownReason::failures;
};

using CooldownLog = BoundedRing<CooldownRecord>;

inline std::int64_t to_ns(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

}  // namespace ipm::pool
