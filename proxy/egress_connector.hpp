#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "config/dispatch.hpp"
#include "pool/egress.hpp"
#include "proxy/connection.hpp"
#include "proxy/dial_watch.hpp"
#include "proxy/egress_source.hpp"
#include "proxy/protocol/destination.hpp"
#include "proxy/protocol/replies.hpp"

namespace ipm::proxy {

class ClientAdmission;
class DestinationPolicy;
class FrontMetrics;
class Resolver;

/// How connecting one request through the pool went.
struct EgressConnection {
  bool connected = false;
  /// When not connected: what to answer the client, and a SOCKS5 upstream's own reply code to
  /// pass on to a SOCKS5 client (-1 when there is none).
  protocol::Refusal refusal = protocol::Refusal::no_egress;
  int socks5_code = -1;
  pool::Egress egress;      ///< connected through (or last tried); empty id when none was
  std::uint32_t tries = 0;  ///< dials attempted
  std::chrono::microseconds dial_time{0};  ///< of the successful dial
  /// For the SOCKS reply: the socket's own address for a source, what a SOCKS upstream
  /// reported for an upstream (a domain, i.e. nothing, when it reported none).
  protocol::Destination bound;
  std::vector<std::byte> early;  ///< tunnel bytes that came with an upstream's answer

  /// How a session whose dial did not connect ends: no egress to try, every try failed, or
  /// refused before any (policy, the client's cap).
  pool::ConnectionEnd failed_end() const {
    if (refusal == protocol::Refusal::no_egress && tries == 0)
      return pool::ConnectionEnd::no_egress;
    return tries > 0 ? pool::ConnectionEnd::dial_failed : pool::ConnectionEnd::refused;
  }
};

/// Connects a client's request for `destination` through source and upstream egresses, with
/// failover before anything is answered: an IP destination is checked against the
/// DestinationPolicy first; a domain is resolved (without blocking the worker) for source
/// egresses only once one is picked, and its addresses are checked, while an upstream gets the
/// name as it is; each dial (bind, connect, the upstream's handshake) is bounded by the
/// DialWatch and reported to the EgressSource, with the upstream's reply code, before the next
/// egress is tried, up to `retries` more times. The source's leases are released for every
/// egress picked and not dialled. Stateless besides its collaborators: one instance serves
/// every worker (each call runs on the calling worker's thread).
class EgressConnector {
 public:
  /// With `admission`, an egress through which the client holds its per-egress cap is skipped;
  /// a client left with none is refused (Refusal::client_limit).
  EgressConnector(EgressSource& source, Resolver& resolver, const DestinationPolicy& policy,
                  FrontMetrics& metrics, std::uint32_t retries,
                  ClientAdmission* admission = nullptr);
  EgressConnector(const EgressConnector&) = delete;
  EgressConnector& operator=(const EgressConnector&) = delete;

  /// Leaves `c.egress` connected and `connected` set, or says why not. Returns early, without
  /// an answer worth sending, once `c` is aborted (the caller checks c.aborted()).
  /// `request` says who asks (client, username); its destination fields are filled here.
  boost::asio::awaitable<EgressConnection> connect(Connection& c, DialWatch& watch,
                                                   const protocol::Destination& destination,
                                                   pool::Request request,
                                                   config::FrontEnd front) const;

 private:
  EgressSource& source_;
  Resolver& resolver_;
  const DestinationPolicy& policy_;
  FrontMetrics& metrics_;
  const std::uint32_t retries_;
  ClientAdmission* const admission_;
};

}  // namespace ipm::proxy
