#pragma once

#include <array>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/registry.h>
#include <boost/asio/ip/tcp.hpp>

#include "clients/client_address.hpp"
#include "clients/client_limits.hpp"
#include "config/dispatch.hpp"
#include "pool/egress.hpp"
#include "proxy/egress_source.hpp"

namespace ipm::proxy {

class Connection;

/// The per-client caps (max_connections_per_client, max_connections_per_client_egress) as the
/// proxy applies them: each Connection holds its leases of clients::ClientLimits while it lasts
/// (so the counts are also what /api/clients shows), and what the caps refuse is counted:
///   ipmanager_proxy_client_limited_total{front_end, limit="client"|"client_egress"}
/// Thread-safe: ClientLimits locks, the counters are atomics.
class ClientAdmission {
 public:
  ClientAdmission(clients::ClientLimits& limits, prometheus::Registry& registry);
  ClientAdmission(const ClientAdmission&) = delete;
  ClientAdmission& operator=(const ClientAdmission&) = delete;

  /// Counts a new connection of `c.client_address` (the lease goes to `c.client_lease`);
  /// false, and counted, when the client already holds max_connections_per_client.
  bool admit(Connection& c, config::FrontEnd front);

  /// The next egress of `source` for `request` that the client may still use: one through
  /// which it holds max_connections_per_client_egress is released at once and put in `tried`
  /// (never offered again to this connection), and the next one is asked for; bounded by the
  /// pool's size. `lease` gets the client's lease on the egress returned. nullopt when none
  /// is left; `capped` then tells whether a cap took some away.
  std::optional<pool::Egress> pick(EgressSource& source, const Connection& c,
                                   const pool::Request& request, std::vector<pool::Egress>& tried,
                                   clients::ClientLimits::Lease& lease, bool& capped);

  /// A connection refused because every egress left was at the client's per-egress cap.
  void refused_at_egress_cap(config::FrontEnd front);

  const clients::ClientLimits& limits() const { return limits_; }

 private:
  clients::ClientLimits& limits_;
  std::array<prometheus::Counter*, config::kFrontEndCount> client_{};
  std::array<prometheus::Counter*, config::kFrontEndCount> client_egress_{};
};

/// The client address of a peer, as the caps and rules know clients (an IPv4-mapped IPv6
/// address is its IPv4 address).
clients::ClientAddress client_address_of(const boost::asio::ip::tcp::endpoint& peer);

}  // namespace ipm::proxy
