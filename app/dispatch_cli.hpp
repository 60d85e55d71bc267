#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"

namespace ipm::app {

/// `ipmanager dispatch ...`: go-dispatch-proxy's command line, as its users type it.
struct DispatchCommand {
  std::string lhost = "127.0.0.1";   ///< -lhost: the mixed front end's address
  std::uint16_t lport = 8080;        ///< -lport
  bool tunnel = false;               ///< -tunnel: the arguments are upstream SOCKS5 proxies
  bool list = false;                 ///< -list: print the interfaces' addresses and exit
  bool quiet = false;                ///< -quiet: warnings and errors only
  bool stats = false;                ///< -stats: the statistics block every minute, and on SIGUSR1
  std::optional<std::uint16_t> web;  ///< -web PORT: the probe's port (default 9095)
  std::string rules;                 ///< -config FILE: the enhanced fork's source_ip_rules.json
  bool help = false;
  std::vector<std::string> egresses;  ///< IP[@ratio], IFACE[@ratio], host:port[@ratio]

  // The gateway fork's flags (its defaults): a transparent proxy for a client subnet.
  bool gateway = false;                      ///< -gateway
  std::uint16_t transparent_port = 8888;     ///< -transparent-port: the redirect front end
  std::vector<std::string> subnets;          ///< -subnet CIDR (repeatable); 192.168.100.0/24
  std::string gateway_ip = "192.168.100.1";  ///< -gateway-ip: the clients' gateway address
  bool auto_config = false;                  ///< -auto-config: install the nftables table
  std::uint16_t dns_port = 5353;             ///< -dns-port: the DNS forwarder; 0: none
  std::string nat_interface;                 ///< -nat-interface IF: masquerade other traffic
  bool gateway_flag_seen = false;            ///< a gateway flag other than -gateway was given
};

struct DispatchParse {
  std::optional<DispatchCommand> command;
  std::string error;
};

/// Parses the arguments after `dispatch`. Flags as Go's flag package takes them (-name,
/// --name, -name=value, -name value), before or after the egresses (which `firewall print`
/// does not require).
DispatchParse parse_dispatch(std::span<const std::string_view> args, bool egresses_required = true);

/// The configuration the command stands for: a mixed front end on lhost:lport, one source
/// egress per IP or interface (or one SOCKS5 upstream per host:port with -tunnel) with its
/// ratio as weight, -config's file as source_ip_rules, the smooth weighted rotation, the probe on
/// 127.0.0.1:9095 (or -web), -stats as a stats_interval of 1m. With -gateway: a redirect front
/// end on gateway-ip:transparent-port, gateway_subnets, gateway_auto_config,
/// gateway_nat_interface, and the DNS forwarder on gateway-ip:dns-port relaying to
/// `resolvers`. Environment overrides (IPM_<KEY>)
/// apply on top. Throws config::ConfigError on a bad argument, naming it.
config::Config dispatch_config(const DispatchCommand& command,
                               const std::vector<std::string>& resolvers = {"8.8.8.8"});

/// The resolvers the DNS forwarder relays to by default, as the gateway fork does: the
/// nameservers of `resolv_conf` (a resolv.conf's text) that are not loopback, else 8.8.8.8.
std::vector<std::string> system_resolvers(std::string_view resolv_conf);

/// The -help text.
std::string dispatch_usage();

}  // namespace ipm::app
