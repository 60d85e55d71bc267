#pragma once

#include <cstdint>
#include <optional>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/system/error_code.hpp>

#include "config/duration.hpp"
#include "pool/decision_log.hpp"
#include "proxy/client_admission.hpp"
#include "proxy/connection.hpp"
#include "proxy/dial_watch.hpp"
#include "proxy/egress_source.hpp"
#include "proxy/metrics.hpp"

namespace ipm::proxy {

/// What the dialer needs from the config, resolved once at startup.
struct DialSettings {
  boost::asio::ip::address next;  ///< the nginx host (`next`)
  config::Millis timeout{};       ///< `dial_timeout`, per attempt
  std::uint32_t retries = 0;      ///< `dial_retries`: other IPs tried after a failed dial
  std::uint16_t fix_port = 0;     ///< `fix_port`: when set, every connection dials next:fix_port
};

/// How a dial error counts. Local errors (out of fds or ports) are the proxy's, not the IP's.
DialFailure classify_dial_error(const boost::system::error_code& ec);

/// The engine's name for a failure (out of resources counts as an error of the egress's dial).
pool::DialResult dial_result(DialFailure f);

/// Connects a client's Connection to `next:port` of an egress chosen by the EgressSource:
/// each attempt is bounded by the dial timeout (kept by the worker's `watch`); a refused, timed-out
/// or unreachable egress is reported at once and another untried one is dialled, up to `retries`
/// more, before any byte is relayed. When the proxy itself is out of descriptors or local ports,
/// the dial waits for them (up to one dial timeout) instead of failing the client, and the egress
/// is not blamed. The client's first bytes (Connection::first_bytes), when
/// there are any, go out as soon as connect(2) returns: a send that succeeds proves the
/// connection without waiting for it. With `fix_port` the pool is bypassed (Go-tool debugging
/// meaning): one dial to next:fix_port, nothing reported. Stateless after construction: one Dialer
/// serves every worker thread (the EgressSource and metrics are thread-safe).
class Dialer {
 public:
  /// With `admission`, an egress through which the client holds its per-egress cap is skipped
  /// (and a client left with none is refused).
  Dialer(DialSettings settings, EgressSource& source, ProxyMetrics& metrics,
         ClientAdmission* admission = nullptr);

  config::Millis timeout() const { return settings_.timeout; }

  /// Leaves `c.egress` connected and returns nullopt, or returns how the connection ends
  /// (dial_failed, no_egress, refused at a client cap, or the reason the Connection was
  /// aborted). Fills the egress,
  /// tries and dial_time of `decision`.
  /// `sticky` is the front end's mode: the request keeps the egress its key lands on.
  boost::asio::awaitable<std::optional<pool::ConnectionEnd>> connect(
      Connection& c, DialWatch& watch, pool::Decision& decision,
      config::Sticky sticky = config::Sticky::none) const;

 private:
  struct Attempt {
    boost::system::error_code error;  ///< empty on success; timed_out when the timer won
    std::chrono::microseconds took{0};
  };

  boost::asio::awaitable<Attempt> dial_once(Connection& c, DialWatch& watch,
                                            std::uint16_t port) const;
  /// dial_once(), and while the proxy itself is out of descriptors or local ports, dial_once()
  /// again after a short wait (connections that end give them back), for up to one dial
  /// timeout: the client is not dropped for the proxy's own shortage.
  boost::asio::awaitable<Attempt> dial_waiting_for_descriptors(Connection& c, DialWatch& watch,
                                                               std::uint16_t port) const;
  void report(const pool::Egress& egress, const Attempt& attempt) const;

  const DialSettings settings_;
  EgressSource& source_;
  ProxyMetrics& metrics_;
  ClientAdmission* const admission_;
};

}  // namespace ipm::proxy
