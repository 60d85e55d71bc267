#include "gateway/firewall_rules.hpp"

#include <stdexcept>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace {

using ipm::gateway::FirewallPlan;
using testing::HasSubstr;
using testing::Not;
using testing::StartsWith;

ipm::config::Cidr cidr(const char* text) {
  std::string why;
  return *ipm::config::Cidr::parse(text, why);
}

TEST(FirewallRulesTest, one_table_of_its_own_with_dns_first_and_the_gateway_itself_left_alone) {
  const FirewallPlan plan{{cidr("10.9.0.0/24"), cidr("fd00:9::/64")}, 8888, 5353, {}};
  const std::string table = ipm::gateway::nft_table(plan);
  EXPECT_EQ(table,
            "table inet ipmanager {\n"
            "\tchain prerouting {\n"
            "\t\ttype nat hook prerouting priority dstnat; policy accept;\n"
            "\t\tip saddr 10.9.0.0/24 udp dport 53 redirect to :5353\n"
            "\t\tip saddr 10.9.0.0/24 tcp dport 53 redirect to :5353\n"
            "\t\tip saddr 10.9.0.0/24 fib daddr type != local meta l4proto tcp redirect to :8888\n"
            "\t\tip6 saddr fd00:9::/64 udp dport 53 redirect to :5353\n"
            "\t\tip6 saddr fd00:9::/64 tcp dport 53 redirect to :5353\n"
            "\t\tip6 saddr fd00:9::/64 fib daddr type != local meta l4proto tcp redirect to :8888\n"
            "\t}\n"
            "}\n");
  const std::string install = ipm::gateway::nft_install_script(plan);
  EXPECT_THAT(install, StartsWith("add table inet ipmanager\ndelete table inet ipmanager\n"));
  EXPECT_THAT(install, HasSubstr(table));
  // Nothing but its own table is named: no flush ruleset, no other table.
  EXPECT_THAT(install, Not(HasSubstr("flush")));
  EXPECT_EQ(ipm::gateway::nft_remove_script(),
            "add table inet ipmanager\ndelete table inet ipmanager\n");
}

TEST(FirewallRulesTest, without_a_dns_port_dns_is_not_redirected) {
  const FirewallPlan plan{{cidr("10.9.0.7")}, 8888, 0, {}};
  const std::string table = ipm::gateway::nft_table(plan);
  EXPECT_THAT(table, Not(HasSubstr("dport 53")));
  EXPECT_THAT(table, HasSubstr("ip saddr 10.9.0.7/32 fib daddr type != local"));
}

TEST(FirewallRulesTest, the_same_rules_for_iptables_in_a_chain_of_their_own) {
  const FirewallPlan plan{{cidr("10.9.0.0/24"), cidr("fd00:9::/64")}, 8888, 5353, {}};
  const std::string rules = ipm::gateway::iptables_rules(plan);
  EXPECT_THAT(rules, HasSubstr("# iptables-restore --noflush\n*nat\n:IPM-GATEWAY - [0:0]\n"
                               "-A PREROUTING -j IPM-GATEWAY\n"
                               "-A IPM-GATEWAY -s 10.9.0.0/24 -p udp --dport 53 -j REDIRECT "
                               "--to-ports 5353\n"));
  EXPECT_THAT(rules, HasSubstr("-A IPM-GATEWAY -s 10.9.0.0/24 -p tcp -m addrtype ! --dst-type "
                               "LOCAL -j REDIRECT --to-ports 8888\nCOMMIT\n"));
  EXPECT_THAT(rules, HasSubstr("# ip6tables-restore --noflush\n"));
  EXPECT_THAT(rules, HasSubstr("-A IPM-GATEWAY -s fd00:9::/64 -p tcp"));
}

TEST(FirewallRulesTest, a_plan_without_subnets_or_port_is_refused) {
  EXPECT_THROW(ipm::gateway::nft_table(FirewallPlan{{}, 8888, 0, {}}), std::invalid_argument);
  EXPECT_THROW(ipm::gateway::nft_table(FirewallPlan{{cidr("10.0.0.0/8")}, 0, 0, {}}),
               std::invalid_argument);
  EXPECT_THROW(ipm::gateway::iptables_rules(FirewallPlan{{}, 8888, 0, {}}), std::invalid_argument);
}

TEST(FirewallRulesTest, a_nat_interface_masquerades_the_subnets_other_traffic) {
  FirewallPlan plan{{cidr("10.9.0.0/24"), cidr("fd00:9::/64")}, 8888, 0, {}};
  plan.nat_interface = "eth1";
  const std::string table = ipm::gateway::nft_table(plan);
  EXPECT_THAT(table, HasSubstr("\tchain postrouting {\n"
                               "\t\ttype nat hook postrouting priority srcnat; policy accept;\n"
                               "\t\tip saddr 10.9.0.0/24 oifname \"eth1\" masquerade\n"
                               "\t\tip6 saddr fd00:9::/64 oifname \"eth1\" masquerade\n"
                               "\t}\n}\n"));
  const std::string rules = ipm::gateway::iptables_rules(plan);
  EXPECT_THAT(rules, HasSubstr(":IPM-GATEWAY-POST - [0:0]\n"));
  EXPECT_THAT(rules, HasSubstr("-A POSTROUTING -j IPM-GATEWAY-POST\n"
                               "-A IPM-GATEWAY-POST -s 10.9.0.0/24 -o eth1 -j MASQUERADE\n"));
  plan.nat_interface.clear();
  EXPECT_THAT(ipm::gateway::nft_table(plan), Not(HasSubstr("postrouting")));
  EXPECT_THAT(ipm::gateway::iptables_rules(plan), Not(HasSubstr("POSTROUTING")));
}

TEST(FirewallRulesTest, the_plan_of_a_configuration_names_what_it_lacks) {
  ipm::config::Config c;
  c.listen = {{ipm::config::FrontEnd::mixed, "127.0.0.1", 8080, {}},
              {ipm::config::FrontEnd::redirect, "10.9.0.1", 8888, {}}};
  c.gateway_subnets = {"10.9.0.0/24"};
  c.dns_port = 5353;
  c.gateway_nat_interface = "eth1";
  const FirewallPlan plan = ipm::gateway::firewall_plan(c);
  EXPECT_EQ(plan.transparent_port, 8888);
  EXPECT_EQ(plan.dns_port, 5353);
  EXPECT_EQ(plan.nat_interface, "eth1");
  ASSERT_EQ(plan.subnets.size(), 1U);
  c.gateway_subnets.clear();
  EXPECT_THROW(ipm::gateway::firewall_plan(c), std::invalid_argument);
  c.gateway_subnets = {"10.9.0.0/24"};
  c.listen.pop_back();
  EXPECT_THROW(ipm::gateway::firewall_plan(c), std::invalid_argument);
}

}  // namespace
