#include "app/stats_block.hpp"

#include <cstdio>

namespace ipm::app {

std::string stats_block(std::span<const EgressStats> egresses) {
  std::string out = "\n--- Load Balancer Statistics ---\n";
  std::size_t n = 0;
  for (const EgressStats& e : egresses) {
    std::string status = e.disabled ? "disabled" : "enabled";
    if (e.state != pool::IpState::available)
      status += ", " + std::string(to_string(e.state));
    out += "LB " + std::to_string(++n) + ": " + e.id + " (" + e.interface +
           ") - Status: " + status + "\n";
    out += "  Default ratio: " + std::to_string(e.weight) +
           ", Total connections: " + std::to_string(e.connections) + "\n";
    const std::uint64_t judged = e.successes + e.failures;
    char rate[32];
    std::snprintf(
        rate, sizeof rate, "%.2f",
        judged == 0 ? 0.0 : static_cast<double>(e.successes) / static_cast<double>(judged) * 100.0);
    out += "  Success: " + std::to_string(e.successes) +
           ", Failures: " + std::to_string(e.failures) + ", Success rate: " + rate + "%\n";
    if (!e.rules.empty()) {
      out += "  Custom source IP rules (" + std::to_string(e.rules.size()) + "):\n";
      for (const auto& r : e.rules)
        out += "    " + r.client + " -> ratio: " + std::to_string(r.ratio) + " (" + r.description +
               ")\n";
    }
    if (!e.clients.empty()) {
      out += "  Current source IP connections:\n";
      for (const auto& [client, open] : e.clients)
        out += "    " + client + ": " + std::to_string(open) + "\n";
    }
    out += "\n";
  }
  return out;
}

std::vector<EgressStats> collect_stats(const strategy::Engine& engine,
                                       const clients::SourceIpRules* rules,
                                       std::span<const clients::ClientLimits::ClientCount> open) {
  std::vector<EgressStats> out;
  out.reserve(engine.ips().size());
  for (const strategy::IpRecord& r : engine.ips()) {
    EgressStats& e = out.emplace_back();
    e.id = r.egress.ip;
    e.interface = r.egress.interface;
    e.disabled = r.disabled;
    e.state = r.state;
    e.weight = r.egress.weight;
    e.connections = r.counters.dials;
    e.successes = r.counters.successes;
    e.failures = r.counters.dial_failures;
    if (rules != nullptr) {
      for (const clients::EgressRules& er : rules->egresses()) {
        if (er.egress != r.egress.ip)
          continue;
        for (const clients::SourceIpRule& rule : er.rules)
          e.rules.push_back({rule.block_text, rule.ratio, rule.description});
      }
    }
    for (const auto& client : open) {
      for (const auto& [egress, count] : client.per_egress) {
        if (egress == r.egress.ip)
          e.clients.emplace_back(client.client, count);
      }
    }
  }
  return out;
}

}  // namespace ipm::app
