#pragma once

#include <cstdint>
#include <string_view>

namespace ipm::pool {

/// Health state of one egress IP, decided by the strategy engine.
enum class IpState : std::uint8_t {
  available,  ///< gets its full share of traffic
  cooling,    ///< ejected after failures; no traffic until its cooldown ends
  probation,  ///< cooldown over: a limited share of traffic until the first success
  banned,     ///< banned by an operator (manual command); no traffic until unbanned or expiry
};

inline constexpr std::size_t kIpStateCount = 4;

/// Stable lowercase name, used in JSON, logs and metric labels.
constexpr std::string_view to_string(IpState s) {
  switch (s) {
    case IpState::available:
      return "available";
    case IpState::cooling:
      return "cooling";
    case IpState::probation:
      return "probation";
    case IpState::banned:
      return "banned";
  }
  return "available";
}

}  // namespace ipm::pool
