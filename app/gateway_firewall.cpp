#include "app/gateway_firewall.hpp"

#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <stdexcept>

#include "gateway/firewall_rules.hpp"

namespace ipm::app {

bool has_net_admin() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  if (::syscall(SYS_capget, &header, data) != 0)
    return false;
  return (data[CAP_NET_ADMIN / 32].effective & (1U << (CAP_NET_ADMIN % 32))) != 0;
}

GatewayFirewall::GatewayFirewall(const config::Config& c) {
  if (!c.gateway_auto_config)
    return;
  gateway::FirewallPlan plan;
  try {
    plan = gateway::firewall_plan(c);
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(std::string("gateway_auto_config: ") + e.what());
  }
  // nftables would say "Operation not permitted"; this names what to grant.
  if (!has_net_admin())
    throw std::runtime_error(
        "gateway_auto_config needs CAP_NET_ADMIN to install its nftables table (run as root, "
        "or grant it: AmbientCapabilities=CAP_NET_ADMIN in the unit, setcap cap_net_admin+ep); "
        "without it, leave auto-config off and install the rules of 'ipmanager firewall print'");
  table_.emplace();
  table_->install(plan);
  description_ = "gateway: nftables table inet ipmanager installed (TCP from " +
                 std::to_string(plan.subnets.size()) + " subnet(s) to port " +
                 std::to_string(plan.transparent_port) +
                 (plan.dns_port ? ", DNS to port " + std::to_string(plan.dns_port) : "") +
                 "); removed on exit";
}

}  // namespace ipm::app
