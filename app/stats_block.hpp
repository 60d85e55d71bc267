#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "clients/client_limits.hpp"
#include "clients/source_ip_rules.hpp"
#include "pool/ip_state.hpp"
#include "strategy/engine.hpp"

namespace ipm::app {

/// One egress as the statistics block shows it.
struct EgressStats {
  std::string id;
  std::string interface;  ///< a source egress's device; empty otherwise
  bool disabled = false;
  pool::IpState state = pool::IpState::available;
  std::uint32_t weight = 1;       ///< its default ratio
  std::uint64_t connections = 0;  ///< dials through it (ipmanager_ip_dials_total)
  std::uint64_t successes = 0;    ///< ipmanager_ip_responses_total{outcome="success"}
  std::uint64_t failures = 0;     ///< ipmanager_ip_dial_failures_total
  struct Rule {
    std::string client;  ///< the IP or CIDR as the file wrote it
    std::uint32_t ratio = 1;
    std::string description;
  };
  std::vector<Rule> rules;  ///< the source_ip_rules of this egress, longest prefix first
  /// Clients with connections open through it now, and how many.
  std::vector<std::pair<std::string, std::uint32_t>> clients;
};

/// The enhanced go-dispatch-proxy's -stats block, line for line as the fork prints it:
///
///   --- Load Balancer Statistics ---
///   LB 1: 10.0.0.1 (eth0) - Status: enabled
///     Default ratio: 3, Total connections: 12
///     Success: 11, Failures: 1, Success rate: 91.67%
///     Custom source IP rules (1):
///       192.168.0.100 -> ratio: 5 (High priority client)
///     Current source IP connections:
///       192.168.0.100: 2
///
/// with one addition: a status other than enabled says the egress's health ("enabled,
/// cooling"), since ipmanager takes failing egresses out. Pure; table-tested.
std::string stats_block(std::span<const EgressStats> egresses);

/// The rows of the block: each egress of `engine` (read under SharedEngine::read) with its
/// counters, the rules of `rules` (may be null) that name it, and the clients of `open`
/// (ClientLimits::counts()) with connections through it.
std::vector<EgressStats> collect_stats(const strategy::Engine& engine,
                                       const clients::SourceIpRules* rules,
                                       std::span<const clients::ClientLimits::ClientCount> open);

}  // namespace ipm::app
