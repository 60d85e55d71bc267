#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

#include "pool/egress.hpp"
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

/// How a dial through an egress ended: the TCP connect (to next:port for nginx, to the
/// destination for a source, to the upstream proxy for an upstream), the bind of a source,
/// and an upstream's handshake.
enum class DialResult : std::uint8_t {
  ok,
  refused,
  timeout,
  unreachable,
  other_error,
  bind_failed,       ///< a source egress's address or device could not be bound
  upstream_refused,  ///< the upstream answered with a refusal (`upstream_code`)
  upstream_error,    ///< the upstream broke its protocol, or turned our credentials down
};
inline constexpr std::size_t kDialResultCount = 8;

/// A dial outcome seen by the proxy, reported before any byte is relayed.
struct DialOutcome {
  std::string_view ip;  ///< the egress id
  std::uint16_t port = 0;
  TimePoint time{};
  DialResult result = DialResult::ok;
  std::chrono::microseconds dial_time{0};
  EgressKind kind = EgressKind::nginx;
  int upstream_code = -1;  ///< the upstream's reply code (SOCKS5 REP, SOCKS4 CD, HTTP status)
  config::UpstreamProtocol protocol = config::UpstreamProtocol::socks5;  ///< of upstream_code
  /// The destination host the client asked for (a domain or an IP in text form), empty
  /// without one: a refusal the destination's (strategy::blame) counts against its site.
  std::string_view target{};
  /// From an active check, not a client: its destination is the operator's known-good target,
  /// so what would be the destination's doing for a client (a refused connect, an upstream's
  /// "refused", an HTTP error status) counts against the egress.
  bool check = false;
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
    case DialResult::bind_failed:
      return "bind_failed";
    case DialResult::upstream_refused:
      return "upstream_refused";
    case DialResult::upstream_error:
      return "upstream_error";
  }
  return "error";
}

}  // namespace ipm::pool
