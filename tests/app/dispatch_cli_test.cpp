// `ipmanager dispatch` takes go-dispatch-proxy's command lines as its users type them.
#include "app/dispatch_cli.hpp"

#include <chrono>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/errors.hpp"
#include "config/load.hpp"

namespace {

using ipm::app::DispatchCommand;
using ipm::app::parse_dispatch;
using ipm::config::EgressKind;
using ipm::config::FrontEnd;
using testing::HasSubstr;

DispatchCommand parse(std::vector<std::string_view> args) {
  const auto parsed = parse_dispatch(args);
  EXPECT_TRUE(parsed.command) << parsed.error;
  return parsed.command.value_or(DispatchCommand{});
}

std::string error(std::vector<std::string_view> args) {
  const auto parsed = parse_dispatch(args);
  EXPECT_FALSE(parsed.command);
  return parsed.error;
}

TEST(DispatchCliTest, go_dispatch_proxy_readme_command_lines) {
  // go-dispatch-proxy 10.81.201.18@3 192.168.1.2@2
  DispatchCommand c = parse({"10.81.201.18@3", "192.168.1.2@2"});
  EXPECT_EQ(c.lhost, "127.0.0.1");
  EXPECT_EQ(c.lport, 8080);
  EXPECT_FALSE(c.tunnel);
  EXPECT_THAT(c.egresses, testing::ElementsAre("10.81.201.18@3", "192.168.1.2@2"));
  // go-dispatch-proxy -lhost 192.168.1.2 -lport 5566 -tunnel 127.0.0.1:7777 127.0.0.1:7778@3
  c = parse(
      {"-lhost", "192.168.1.2", "-lport", "5566", "-tunnel", "127.0.0.1:7777", "127.0.0.1:7778@3"});
  EXPECT_EQ(c.lhost, "192.168.1.2");
  EXPECT_EQ(c.lport, 5566);
  EXPECT_TRUE(c.tunnel);
  EXPECT_THAT(c.egresses, testing::ElementsAre("127.0.0.1:7777", "127.0.0.1:7778@3"));
  // Go's flag package also takes --name, -name=value and -bool=false.
  c = parse({"--lport=9000", "-quiet", "-tunnel=false", "-web", "9100", "eth0@2"});
  EXPECT_EQ(c.lport, 9000);
  EXPECT_TRUE(c.quiet);
  EXPECT_FALSE(c.tunnel);
  EXPECT_EQ(c.web, 9100);
  EXPECT_TRUE(parse({"-list"}).list);  // needs no egress
  // After "--" everything is an egress.
  EXPECT_THAT(parse({"--", "-x"}).egresses, testing::ElementsAre("-x"));
}

TEST(DispatchCliTest, bad_command_lines_say_what_is_wrong) {
  EXPECT_THAT(error({}), HasSubstr("Please specify one or more load balancers"));
  EXPECT_THAT(error({"-lport", "70000", "10.0.0.1"}), HasSubstr("-lport: '70000' is not a port"));
  EXPECT_THAT(error({"-lport"}), HasSubstr("-lport"));
  EXPECT_THAT(error({"-lhost", "localhost", "10.0.0.1"}), HasSubstr("not an IP address"));
  EXPECT_THAT(error({"-socks", "10.0.0.1"}), HasSubstr("flag provided but not defined: -socks"));
  EXPECT_THAT(error({"-tunnel=maybe", "a:1"}), HasSubstr("-tunnel takes true or false"));
  // The enhanced forks' flags that are not supported yet say so.
  EXPECT_THAT(error({"10.0.0.1", "-config"}), HasSubstr("-config: needs the path"));
  EXPECT_THAT(error({"-transparent-port", "8888", "10.0.0.1"}), HasSubstr("add -gateway"));
  EXPECT_THAT(error({"-gateway", "-transparent-port", "0", "10.0.0.1"}),
              HasSubstr("-transparent-port: '0' is not a port"));
  EXPECT_THAT(error({"-gateway", "-subnet", "10.0.0.0/33", "10.0.0.1"}),
              HasSubstr("-subnet: '10.0.0.0/33' is not a CIDR"));
  EXPECT_THAT(error({"-gateway", "-gateway-ip", "gw", "10.0.0.1"}),
              HasSubstr("-gateway-ip: 'gw' is not an IP address"));
  EXPECT_THAT(error({"-gateway", "-nat-interface", "a/b", "10.0.0.1"}),
              HasSubstr("-nat-interface: 'a/b' is not an interface name"));
  EXPECT_THAT(error({"-gateway", "-auto-config=maybe", "10.0.0.1"}),
              HasSubstr("-auto-config takes true or false"));
  EXPECT_THAT(error({"-stats=maybe", "10.0.0.1"}), HasSubstr("-stats takes true or false"));
}

ipm::config::Config config_of(std::vector<std::string_view> args) {
  return ipm::app::dispatch_config(parse(std::move(args)));
}

TEST(DispatchCliTest, stands_for_a_mixed_front_end_over_weighted_source_egresses) {
  const ipm::config::Config c = config_of({"-lport", "1080", "10.81.201.18@3", "eth1", "::1@2"});
  ASSERT_EQ(c.listen.size(), 1U);
  EXPECT_EQ(c.listen[0].type, FrontEnd::mixed);
  EXPECT_EQ(c.listen[0].host, "127.0.0.1");
  EXPECT_EQ(c.listen[0].port, 1080);
  EXPECT_EQ(c.selection, ipm::config::Selection::weighted);  // ratios, interleaved
  EXPECT_EQ(c.source_ip_rules, "");
  EXPECT_EQ(c.probe_host, "127.0.0.1");
  EXPECT_EQ(c.probe_port, 9095);
  EXPECT_TRUE(c.upstream_conf_path.empty());
  ASSERT_EQ(c.egresses.size(), 3U);
  EXPECT_EQ(c.egresses[0].kind, EgressKind::source);
  EXPECT_EQ(c.egresses[0].address, "10.81.201.18");
  EXPECT_EQ(c.egresses[0].weight, 3U);
  EXPECT_EQ(c.egresses[1].interface, "eth1");
  EXPECT_EQ(c.egresses[1].weight, 1U);
  EXPECT_EQ(c.egresses[2].address, "::1");
  EXPECT_NO_THROW(ipm::config::validate(c));
}

TEST(DispatchCliTest, config_names_the_enhanced_forks_source_ip_rules) {
  EXPECT_EQ(config_of({"-config", "/etc/rules.json", "10.0.0.1@5"}).source_ip_rules,
            "/etc/rules.json");
  EXPECT_EQ(config_of({"10.0.0.1", "--config=rules.json"}).source_ip_rules, "rules.json");
}

TEST(DispatchCliTest, stats_prints_the_statistics_block_every_minute) {
  EXPECT_EQ(config_of({"-stats", "10.0.0.1"}).stats_interval, std::chrono::minutes(1));
  EXPECT_EQ(config_of({"10.0.0.1"}).stats_interval.count(), 0) << "else only on SIGUSR1";
  EXPECT_EQ(config_of({"-stats=false", "10.0.0.1"}).stats_interval.count(), 0);
}

TEST(DispatchCliTest, tunnel_mode_stands_for_socks5_upstreams) {
  const ipm::config::Config c =
      config_of({"-web", "9200", "-tunnel", "127.0.0.1:7777", "proxy.example:1080@4", "[::1]:22"});
  EXPECT_EQ(c.probe_port, 9200);
  ASSERT_EQ(c.egresses.size(), 3U);
  for (const auto& e : c.egresses) {
    EXPECT_EQ(e.kind, EgressKind::upstream);
    EXPECT_EQ(e.protocol, ipm::config::UpstreamProtocol::socks5);
  }
  EXPECT_EQ(c.egresses[0].host, "127.0.0.1");
  EXPECT_EQ(c.egresses[0].port, 7777);
  EXPECT_EQ(c.egresses[1].host, "proxy.example");
  EXPECT_EQ(c.egresses[1].weight, 4U);
  EXPECT_EQ(c.egresses[2].host, "::1");
  EXPECT_NO_THROW(ipm::config::validate(c));
}

// The gateway fork's README: go-dispatch-proxy -gateway -gateway-ip 192.168.100.1 -subnet
// 192.168.100.0/24 -transparent-port 8888 -dns-port 5353 -nat-interface eth0 IP@3 IP@2.
TEST(DispatchCliTest, gateway_mode_stands_for_a_redirect_front_end_its_rules_and_dns) {
  const DispatchCommand defaults = parse({"-gateway", "192.168.1.10@3"});
  EXPECT_TRUE(defaults.gateway);
  EXPECT_EQ(defaults.transparent_port, 8888);
  EXPECT_EQ(defaults.dns_port, 5353);
  EXPECT_EQ(defaults.gateway_ip, "192.168.100.1");
  EXPECT_THAT(defaults.subnets, testing::ElementsAre("192.168.100.0/24"));
  EXPECT_FALSE(defaults.auto_config);  // as the fork decided: off unless asked

  const ipm::config::Config c = ipm::app::dispatch_config(
      parse({"-gateway", "-gateway-ip", "10.50.0.1", "-subnet", "10.50.0.0/24", "-subnet",
             "fd50::/64", "-transparent-port", "9888", "-dns-port", "5300", "-auto-config",
             "-nat-interface", "eth0", "192.168.1.10@3", "10.81.201.18@2"}),
      {"192.0.2.53"});
  ASSERT_EQ(c.listen.size(), 2U);
  EXPECT_EQ(c.listen[0].type, FrontEnd::mixed);  // the SOCKS/HTTP proxy stays
  EXPECT_EQ(c.listen[1].type, FrontEnd::redirect);
  EXPECT_EQ(c.listen[1].host, "10.50.0.1");
  EXPECT_EQ(c.listen[1].port, 9888);
  EXPECT_THAT(c.gateway_subnets, testing::ElementsAre("10.50.0.0/24", "fd50::/64"));
  EXPECT_TRUE(c.gateway_auto_config);
  EXPECT_EQ(c.gateway_nat_interface, "eth0");
  EXPECT_EQ(c.dns_host, "10.50.0.1");
  EXPECT_EQ(c.dns_port, 5300);
  EXPECT_THAT(c.dns_upstreams, testing::ElementsAre("192.0.2.53"));
  EXPECT_NO_THROW(ipm::config::validate(c));
  // -dns-port 0: no forwarder.
  EXPECT_EQ(ipm::app::dispatch_config(parse({"-gateway", "-dns-port", "0", "10.0.0.1"})).dns_port,
            0);
}

TEST(DispatchCliTest, the_forwarder_relays_to_resolv_confs_resolvers_beyond_loopback) {
  using ipm::app::system_resolvers;
  EXPECT_THAT(system_resolvers("# generated\nnameserver 192.0.2.1\nsearch example\n"
                               "nameserver\t2001:db8::53 # second\nnameserver 127.0.0.53\n"
                               "nameserverx 192.0.2.9\nnameserver bogus\n"),
              testing::ElementsAre("192.0.2.1", "2001:db8::53"));
  // Only a stub resolver on loopback (or none): the fork's fallback.
  EXPECT_THAT(system_resolvers("nameserver 127.0.0.53\n"), testing::ElementsAre("8.8.8.8"));
  EXPECT_THAT(system_resolvers(""), testing::ElementsAre("8.8.8.8"));
}

TEST(DispatchCliTest, bad_egress_arguments_are_named) {
  const auto refused = [](std::vector<std::string_view> args) -> std::string {
    try {
      config_of(std::move(args));
    } catch (const ipm::config::ConfigError& e) {
      return e.what();
    }
    return "accepted";
  };
  EXPECT_EQ(refused({"10.0.0.1@0"}),
            "10.0.0.1@0: invalid contention ratio (a whole number from 1)");
  EXPECT_EQ(refused({"10.0.0.1@x"}),
            "10.0.0.1@x: invalid contention ratio (a whole number from 1)");
  EXPECT_THAT(refused({"-tunnel", "127.0.0.1"}), HasSubstr("127.0.0.1: invalid address"));
  EXPECT_THAT(refused({"-tunnel", "127.0.0.1:99999"}), HasSubstr("invalid address"));
  EXPECT_THAT(refused({"10.0.0.1:80"}), HasSubstr("neither an IP address nor an interface"));
  // Beyond loopback without users: an open proxy, refused unless the operator says so.
  ipm::config::Config open = config_of({"-lhost", "0.0.0.0", "10.0.0.1"});
  EXPECT_THROW(ipm::config::validate(open), ipm::config::ConfigError);
  open.allow_open_proxy = true;
  EXPECT_NO_THROW(ipm::config::validate(open));
}

}  // namespace
