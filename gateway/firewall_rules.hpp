#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "config/cidr.hpp"
#include "config/config.hpp"

namespace ipm::gateway {

/// What gateway mode redirects: TCP from the client subnets to the transparent port, and
/// their DNS (UDP and TCP port 53) to the DNS forwarder. Traffic addressed to the gateway
/// itself (an SSH session to it, say) is left alone.
struct FirewallPlan {
  std::vector<config::Cidr> subnets;  ///< the clients; IPv4 and IPv6 blocks alike
  std::uint16_t transparent_port = 0;
  std::uint16_t dns_port = 0;  ///< 0: DNS is not redirected
  /// The subnets' other forwarded traffic (UDP, ICMP) is masqueraded when it leaves by this
  /// interface (the fork's -nat-interface); "": none.
  std::string nat_interface;
};

/// The plan a configuration stands for: gateway_subnets, the first redirect front end's port,
/// dns_port, gateway_nat_interface. Throws std::invalid_argument naming the missing key.
FirewallPlan firewall_plan(const config::Config& c);

/// The nftables table that carries the plan: `table inet ipmanager`, one nat prerouting
/// chain (and a postrouting one for nat_interface), nothing else. Throws std::invalid_argument for
/// a plan without subnets or port.
std::string nft_table(const FirewallPlan& plan);

/// One nft script that installs the table in a single transaction, replacing a leftover
/// table of the same name (a crash) and touching nothing else of the ruleset.
std::string nft_install_script(const FirewallPlan& plan);

/// The script that removes the table (and only it), whether or not it exists.
std::string nft_remove_script();

/// The same rules for operators who keep iptables: iptables-restore input for the nat
/// table (and ip6tables for IPv6 subnets), in a chain of its own, IPM-GATEWAY.
std::string iptables_rules(const FirewallPlan& plan);

}  // namespace ipm::gateway
