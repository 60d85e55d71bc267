#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include "config/dispatch.hpp"
#include "pool/egress.hpp"
#include "pool/time.hpp"

namespace ipm::pool {

/// How a proxied connection ended.
enum class ConnectionEnd : std::uint8_t {
  closed,            ///< both sides finished normally
  client_reset,      ///< the client reset or errored
  egress_reset,      ///< the egress side reset or errored
  idle_timeout,      ///< no byte either way for idle_timeout
  lifetime,          ///< max_connection_timeout reached
  dial_failed,       ///< every dial within the retry budget failed; no byte relayed
  no_egress,         ///< the pool had nothing to offer (all unavailable and policy refuse)
  shutdown,          ///< cut by the drain timeout at shutdown
  handshake_failed,  ///< socks/http: a malformed, refused or timed-out handshake
  refused,           ///< socks/http: answered with a refusal (policy, DNS, no egress); any
                     ///< front end: the client was at its cap (tcp: a plain FIN)
};

std::string_view to_string(ConnectionEnd e);

/// What the proxy did with one client connection: the record behind /api/decisions.
struct Decision {
  TimePoint time{};    ///< when the client connected
  std::string client;  ///< "addr:port" of the client
  config::FrontEnd front_end = config::FrontEnd::tcp;
  std::string destination;  ///< socks/http: "host:port" the client asked for; tcp: empty
  std::string username;     ///< socks/http: the username the client gave, if any
  Egress egress;            ///< the egress finally used (empty ip when none)
  std::uint32_t tries = 0;  ///< dials attempted
  std::chrono::microseconds dial_time{0};  ///< of the successful dial
  std::uint64_t bytes_up = 0;              ///< client -> egress
  std::uint64_t bytes_down = 0;            ///< egress -> client
  std::chrono::microseconds duration{0};
  ConnectionEnd end = ConnectionEnd::closed;
};

/// The last `capacity` decisions, newest last. Thread-safe: the proxy records from any
/// thread, the probe reads copies.
class DecisionLog {
 public:
  explicit DecisionLog(std::size_t capacity);
  DecisionLog(const DecisionLog&) = delete;
  DecisionLog& operator=(const DecisionLog&) = delete;

  void record(Decision d);

  /// Up to `limit` most recent decisions, newest first.
  std::vector<Decision> latest(std::size_t limit) const;

  /// Decisions recorded since start, including those already dropped from the ring.
  std::uint64_t total() const;

 private:
  const std::size_t capacity_;
  mutable std::mutex mutex_;
  std::deque<Decision> ring_;
  std::uint64_t total_ = 0;
};

}  // namespace ipm::pool
