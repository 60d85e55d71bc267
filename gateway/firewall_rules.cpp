#include "gateway/firewall_rules.hpp"

#include <arpa/inet.h>

#include <stdexcept>

namespace ipm::gateway {

namespace {

std::string block_text(const config::Cidr& c) {
  char text[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(c.v4 ? AF_INET : AF_INET6, c.bytes.data(), text, sizeof text);
  return std::string(text) + "/" + std::to_string(c.prefix);
}

void check(const FirewallPlan& plan) {
  if (plan.subnets.empty())
    throw std::invalid_argument("gateway firewall: no client subnet to redirect");
  if (plan.transparent_port == 0)
    throw std::invalid_argument("gateway firewall: the transparent port is not set");
}

}  // namespace

FirewallPlan firewall_plan(const config::Config& c) {
  FirewallPlan plan;
  for (const std::string& text : c.gateway_subnets) {
    std::string why;
    const auto block = config::Cidr::parse(text, why);
    if (!block)
      throw std::invalid_argument("gateway_subnets: " + why);
    plan.subnets.push_back(*block);
  }
  for (const config::Listener& l : c.front_ends()) {
    if (l.type == config::FrontEnd::redirect) {
      plan.transparent_port = l.port;
      break;
    }
  }
  plan.dns_port = c.dns_port;
  plan.nat_interface = c.gateway_nat_interface;
  if (plan.subnets.empty())
    throw std::invalid_argument("gateway_subnets: no client subnet to redirect");
  if (plan.transparent_port == 0)
    throw std::invalid_argument("listen: no redirect front end with a fixed port");
  return plan;
}

std::string nft_table(const FirewallPlan& plan) {
  check(plan);
  std::string out =
      "table inet ipmanager {\n"
      "\tchain prerouting {\n"
      "\t\ttype nat hook prerouting priority dstnat; policy accept;\n";
  const std::string tcp_port = std::to_string(plan.transparent_port);
  for (const config::Cidr& c : plan.subnets) {
    const std::string from = std::string(c.v4 ? "ip" : "ip6") + " saddr " + block_text(c);
    // DNS first: its TCP queries would otherwise match the catch-all TCP rule below.
    if (plan.dns_port != 0) {
      const std::string dns = std::to_string(plan.dns_port);
      out += "\t\t" + from + " udp dport 53 redirect to :" + dns + "\n";
      out += "\t\t" + from + " tcp dport 53 redirect to :" + dns + "\n";
    }
    out +=
        "\t\t" + from + " fib daddr type != local meta l4proto tcp redirect to :" + tcp_port + "\n";
  }
  out += "\t}\n";
  if (!plan.nat_interface.empty()) {
    out +=
        "\tchain postrouting {\n"
        "\t\ttype nat hook postrouting priority srcnat; policy accept;\n";
    for (const config::Cidr& c : plan.subnets) {
      out += std::string("\t\t") + (c.v4 ? "ip" : "ip6") + " saddr " + block_text(c) +
             " oifname \"" + plan.nat_interface + "\" masquerade\n";
    }
    out += "\t}\n";
  }
  out += "}\n";
  return out;
}

std::string nft_install_script(const FirewallPlan& plan) {
  // "add" makes the delete valid when no table exists; the three lines are one transaction,
  // so the ruleset never holds a half-built table or none while a leftover is replaced.
  return "add table inet ipmanager\ndelete table inet ipmanager\n" + nft_table(plan);
}

std::string nft_remove_script() {
  return "add table inet ipmanager\ndelete table inet ipmanager\n";
}

std::string iptables_rules(const FirewallPlan& plan) {
  check(plan);
  std::string v4, v6, v4_post, v6_post;
  for (const config::Cidr& c : plan.subnets) {
    std::string& out = c.v4 ? v4 : v6;
    if (!plan.nat_interface.empty()) {
      (c.v4 ? v4_post : v6_post) += "-A IPM-GATEWAY-POST -s " + block_text(c) + " -o " +
                                    plan.nat_interface + " -j MASQUERADE\n";
    }
    const std::string from = "-A IPM-GATEWAY -s " + block_text(c);
    if (plan.dns_port != 0) {
      const std::string dns = std::to_string(plan.dns_port);
      out += from + " -p udp --dport 53 -j REDIRECT --to-ports " + dns + "\n";
      out += from + " -p tcp --dport 53 -j REDIRECT --to-ports " + dns + "\n";
    }
    out += from + " -p tcp -m addrtype ! --dst-type LOCAL -j REDIRECT --to-ports " +
           std::to_string(plan.transparent_port) + "\n";
  }
  const auto table = [](const std::string& tool, const std::string& rules,
                        const std::string& post) {
    std::string text = "# " + tool + "-restore --noflush\n*nat\n:IPM-GATEWAY - [0:0]\n";
    if (!post.empty())
      text += ":IPM-GATEWAY-POST - [0:0]\n";
    text += "-A PREROUTING -j IPM-GATEWAY\n" + rules;
    if (!post.empty())
      text += "-A POSTROUTING -j IPM-GATEWAY-POST\n" + post;
    return text + "COMMIT\n";
  };
  std::string out;
  if (!v4.empty())
    out += table("iptables", v4, v4_post);
  if (!v6.empty())
    out += table("ip6tables", v6, v6_post);
  return out;
}

}  // namespace ipm::gateway
