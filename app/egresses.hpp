#pragma once

#include <string>
#include <vector>

#include "config/config.hpp"
#include "pool/egress.hpp"
#include "proxy/interfaces.hpp"

namespace ipm::app {

/// The source and upstream egresses of `config.egresses`, as the pool holds them: ids,
/// families, and for a source named by its interface the interface's first address (IPv4
/// first, never a link-local one), looked up in `interfaces`.
/// Throws config::ConfigError naming the entry (`egresses[2].interface`) when an interface has
/// no usable address or an egress is listed twice. `warnings` gets what does not stop startup:
/// a source address that is on no interface (its dials fail with bind_failed, and the engine
/// takes it out, until the address appears).
std::vector<pool::Egress> build_egresses(const config::Config& config,
                                         const std::vector<proxy::InterfaceAddress>& interfaces,
                                         std::vector<std::string>& warnings);

/// `ipmanager dispatch -list`: one line per address of every interface that is up and not
/// loopback, as go-dispatch-proxy prints them ("[+] eth0, IPv4:192.0.2.10").
std::string list_interfaces(const std::vector<proxy::InterfaceAddress>& interfaces);

}  // namespace ipm::app
