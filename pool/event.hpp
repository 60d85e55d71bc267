#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

#include "pool/time.hpp"

namespace ipm::pool {

/// One access-log line attributed to an egress IP.
/// The views point into the scanner's line buffer: they are valid only for the duration
/// of the call that receives the event. Whoever keeps a field copies or interns it; this
/// keeps the scanner's hot path free of allocations.
struct LogEvent {
  std::string_view ip;            ///< egress IP the line is attributed to (never empty)
  std::uint16_t port = 0;         ///< nginx listen port, 0 when the format has none
  TimePoint time{};               ///< the line's own timestamp
  int status = 0;                 ///< `$status`
  int upstream_status = 0;        ///< last value of `$upstream_status`; 0 when absent or "-"
  std::string_view key;           ///< `$http_x_egress_key`; empty for "-"
  std::string_view target;        ///< `$http_x_egress_host`; empty for "-"
  float latency_seconds = -1.0F;  ///< `$request_time`; negative when absent
};

/// How a proxy dial to `next:port` of an egress ended.
enum class DialResult : std::uint8_t { ok, refused, timeout, unreachable, other_error };

/// A dial outcome seen by the proxy, reported before any byte is relayed.
struct DialOutcome {
  std::string_view ip;
  std::uint16_t port = 0;
  TimePoint time{};
  DialResult result = DialResult::ok;
  std::chrono::microseconds dial_time{0};
};

/// Stable lowercase name of a dial result, used in logs, JSON and metric labels.
constexpr std::string_view to_string(DialResult r) {
  switch (r) {
    case DialResult::ok:
      return "ok";
    case DialResult::refused:
      return "refused";
    case DialResult::timeout:
      return "timeout";
    case DialResult::unreachable:
      return "unreachable";
    case DialResult::other_error:
      return "error";
  }
  return "error";
}

}  // namespace ipm::pool
