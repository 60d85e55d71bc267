#include "app/firewall_cli.hpp"

#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "app/dispatch_cli.hpp"
#include "gateway/firewall_rules.hpp"

namespace ipm::app {

int firewall_main(std::span<const std::string_view> args, std::ostream& out, std::ostream& err) {
  const std::string usage =
      "Usage: ipmanager firewall print [--iptables] [-transparent-port 8888] [-subnet CIDR]\n"
      "                                [-dns-port 5353] [-nat-interface IF] [-gateway-ip IP]\n";
  if (args.empty() || args.front() != "print") {
    err << "ipmanager firewall: "
        << (args.empty() ? "" : "unknown command '" + std::string(args.front()) + "'; ")
        << "expected print\n"
        << usage;
    return 2;
  }
  bool iptables = false;
  std::vector<std::string_view> flags{"-gateway"};
  for (const std::string_view a : args.subspan(1)) {
    if (a == "--iptables" || a == "-iptables")
      iptables = true;
    else if (a == "-h" || a == "--help" || a == "-help") {
      out << usage;
      return 0;
    } else {
      flags.push_back(a);
    }
  }
  const DispatchParse parsed = parse_dispatch(flags, /*egresses_required=*/false);
  if (!parsed.command) {
    err << "ipmanager firewall: " << parsed.error << "\n";
    return 2;
  }
  DispatchCommand cmd = *parsed.command;
  cmd.egresses.clear();
  try {
    const gateway::FirewallPlan plan = gateway::firewall_plan(dispatch_config(cmd));
    out << (iptables ? gateway::iptables_rules(plan) : gateway::nft_table(plan));
  } catch (const std::exception& e) {
    err << "ipmanager firewall: " << e.what() << "\n";
    return 2;
  }
  return 0;
}

}  // namespace ipm::app
