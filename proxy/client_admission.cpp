#include "proxy/client_admission.hpp"

#include <prometheus/family.h>

#include "proxy/connection.hpp"

namespace ipm::proxy {

ClientAdmission::ClientAdmission(clients::ClientLimits& limits, prometheus::Registry& registry)
    : limits_(limits) {
  auto& family = prometheus::BuildCounter()
                     .Name("ipmanager_proxy_client_limited_total")
                     .Help(
                         "Connections refused because the client held as many as it may: "
                         "limit=client (max_connections_per_client) or client_egress (every "
                         "egress left at max_connections_per_client_egress)")
                     .Register(registry);
  for (std::size_t f = 0; f < config::kFrontEndCount; ++f) {
    const std::string front(config::to_string(static_cast<config::FrontEnd>(f)));
    client_[f] = &family.Add({{"front_end", front}, {"limit", "client"}});
    client_egress_[f] = &family.Add({{"front_end", front}, {"limit", "client_egress"}});
  }
}

bool ClientAdmission::admit(Connection& c, config::FrontEnd front) {
  c.client_lease = limits_.admit_client(c.client_address);
  if (c.client_lease)
    return true;
  client_[static_cast<std::size_t>(front)]->Increment();
  return false;
}

std::optional<pool::Egress> ClientAdmission::pick(EgressSource& source, const Connection& c,
                                                  const pool::Request& request,
                                                  std::vector<pool::Egress>& tried,
                                                  clients::ClientLimits::Lease& lease,
                                                  bool& capped) {
  // Each turn adds one egress to `tried`, which pick() never offers again: at most one turn
  // per egress of the pool.
  for (;;) {
    std::optional<pool::Egress> egress = source.pick(request, tried);
    if (!egress)
      return std::nullopt;
    lease = limits_.admit_egress(c.client_address, egress->ip);
    if (lease)
      return egress;
    capped = true;
    source.abandoned(*egress);
    tried.push_back(std::move(*egress));
  }
}

void ClientAdmission::refused_at_egress_cap(config::FrontEnd front) {
  client_egress_[static_cast<std::size_t>(front)]->Increment();
}

clients::ClientAddress client_address_of(const boost::asio::ip::tcp::endpoint& peer) {
  const auto address = peer.address();
  if (address.is_v4()) {
    const auto bytes = address.to_v4().to_bytes();
    return clients::ClientAddress::from_bytes(bytes.data(), true);
  }
  const auto bytes = address.to_v6().to_bytes();
  return clients::ClientAddress::from_bytes(bytes.data(), false);
}

}  // namespace ipm::proxy
