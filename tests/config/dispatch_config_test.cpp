// The dispatch-mode keys: front ends (`listen`), egresses beyond nginx (`egresses`), the
// destination rules and the security defaults. Every bad entry is named down to its field.
#include "config/dispatch.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/errors.hpp"
#include "config/load.hpp"

namespace {

using ipm::config::Config;
using ipm::config::ConfigError;
using ipm::config::EgressKind;
using ipm::config::FrontEnd;
using ipm::config::UpstreamProtocol;
using testing::HasSubstr;
using namespace std::chrono_literals;

Config load(const std::string& text) {
  return ipm::config::load_text(text, "test.yaml", ipm::config::no_env());
}

constexpr const char* kDispatch = R"(
listen:
  - {type: mixed, port: 8080}
  - {type: socks, host: 0.0.0.0, port: 1080, users: [{name: alice, password: s3cret}],
     sticky: username}
egresses:
  - {kind: source, address: 192.0.2.10, weight: 3}
  - {kind: source, interface: eth1}
  - {kind: upstream, host: 127.0.0.1, port: 7777}
  - {kind: upstream, host: proxy.example, port: 3128, protocol: http, username: u, password: p}
  - {kind: upstream, host: 127.0.0.1, port: 1081, protocol: socks4, username: me}
handshake_timeout: 3s
allow_destinations: [127.0.0.0/8, "[::1]:80"]
deny_destinations: 10.0.0.0/8:25
)";

TEST(DispatchConfigTest, front_ends_and_egresses_load_without_an_nginx_pool) {
  const Config c = load(kDispatch);
  ASSERT_EQ(c.listen.size(), 2U);
  EXPECT_EQ(c.listen[0].type, FrontEnd::mixed);
  EXPECT_EQ(c.listen[0].host, "127.0.0.1");  // loopback unless told
  EXPECT_EQ(c.listen[0].port, 8080);
  EXPECT_EQ(c.listen[1].host, "0.0.0.0");
  ASSERT_EQ(c.listen[1].users.size(), 1U);
  EXPECT_EQ(c.listen[1].users[0].name, "alice");
  EXPECT_EQ(c.listen[0].sticky, ipm::config::Sticky::none);  // the pool's policy unless told
  EXPECT_EQ(c.listen[1].sticky, ipm::config::Sticky::username);
  ASSERT_EQ(c.egresses.size(), 5U);
  EXPECT_EQ(c.egresses[0].kind, EgressKind::source);
  EXPECT_EQ(c.egresses[0].address, "192.0.2.10");
  EXPECT_EQ(c.egresses[0].weight, 3U);
  EXPECT_EQ(c.egresses[1].interface, "eth1");
  EXPECT_EQ(c.egresses[2].kind, EgressKind::upstream);
  EXPECT_EQ(c.egresses[2].protocol, UpstreamProtocol::socks5);  // the default
  EXPECT_EQ(c.egresses[3].protocol, UpstreamProtocol::http);
  EXPECT_EQ(c.egresses[3].password, "p");
  EXPECT_EQ(c.egresses[4].username, "me");
  EXPECT_EQ(c.handshake_timeout, 3s);
  ASSERT_EQ(c.allow_destinations.size(), 2U);
  EXPECT_EQ(c.allow_destinations[1].text, "[::1]:80");
  ASSERT_EQ(c.deny_destinations.size(), 1U);  // one rule may be written without a list
  EXPECT_EQ(c.deny_destinations[0].port, 25);
  EXPECT_EQ(c.front_ends(), c.listen);
}

TEST(DispatchConfigTest, without_listen_the_front_end_is_the_tcp_one_of_proxy_host_and_port) {
  const Config c = load("upstream_conf_path: /p.conf\nproxy_host: 127.0.0.2\nproxy_port: 9300\n");
  ASSERT_EQ(c.front_ends().size(), 1U);
  EXPECT_EQ(c.front_ends()[0].type, FrontEnd::tcp);
  EXPECT_EQ(c.front_ends()[0].host, "127.0.0.2");
  EXPECT_EQ(c.front_ends()[0].port, 9300);
  EXPECT_TRUE(c.egresses.empty());
  EXPECT_EQ(c.handshake_timeout, 10s);
  EXPECT_FALSE(c.allow_open_proxy);
}

struct BadEntry {
  const char* yaml;
  const char* key;
  const char* says;
};

class BadDispatchConfigTest : public testing::TestWithParam<BadEntry> {};

TEST_P(BadDispatchConfigTest, names_the_entry_and_the_field) {
  const BadEntry& bad = GetParam();
  try {
    load(bad.yaml);
    ADD_FAILURE() << "no error for:\n" << bad.yaml;
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.key(), bad.key) << e.what();
    EXPECT_THAT(e.what(), testing::StartsWith(std::string(bad.key) + ": ")) << e.what();
    EXPECT_THAT(e.what(), HasSubstr(bad.says));
  }
}

// Valid around the entry under test.
#define MIXED "listen: [{type: mixed, port: 8080}]\n"
#define SOURCE "egresses: [{kind: source, address: 127.0.1.1}]\n"

INSTANTIATE_TEST_SUITE_P(
    Entries, BadDispatchConfigTest,
    testing::Values(
        BadEntry{MIXED "egresses: [{kind: source, address: 127.0.1.1}, {kind: upstream, host: a, "
                       "port: 0}]\n",
                 "egresses[1].port", "between 1 and 65535"},
        BadEntry{MIXED "egresses: [{kind: upstream, host: a}]\n", "egresses[0].port",
                 "needs a port"},
        BadEntry{MIXED "egresses: [{kind: upstream, port: 1080}]\n", "egresses[0].host",
                 "needs a host"},
        BadEntry{MIXED "egresses: [{kind: tunnel, host: a, port: 1}]\n", "egresses[0].kind",
                 "not one of: source, upstream"},
        BadEntry{MIXED "egresses: [{address: 127.0.1.1}]\n", "egresses[0].kind", "required"},
        BadEntry{MIXED "egresses: [{kind: source}]\n", "egresses[0].address",
                 "an address or an interface"},
        BadEntry{MIXED "egresses: [{kind: source, address: 300.1.1.1}]\n", "egresses[0].address",
                 "not an IP address"},
        BadEntry{MIXED "egresses: [{kind: source, interface: a-very-long-interface}]\n",
                 "egresses[0].interface", "longer than an interface name"},
        BadEntry{MIXED "egresses: [{kind: source, address: 127.0.1.1, port: 80}]\n",
                 "egresses[0].port", "not used by source egresses"},
        BadEntry{MIXED "egresses: [{kind: upstream, host: a, port: 1, interface: eth0}]\n",
                 "egresses[0].interface", "not used by upstream egresses"},
        BadEntry{MIXED "egresses: [{kind: upstream, host: a, port: 1, protocol: socks6}]\n",
                 "egresses[0].protocol", "not one of: socks5, socks4, http"},
        BadEntry{MIXED "egresses: [{kind: upstream, host: a, port: 1, protocol: socks4, "
                       "username: u, password: p}]\n",
                 "egresses[0].password", "SOCKS4 has no password"},
        BadEntry{MIXED "egresses: [{kind: source, address: 127.0.1.1, weight: 0}]\n",
                 "egresses[0].weight", "between 1 and"},
        BadEntry{MIXED "egresses: [{kind: source, address: 127.0.1.1, wieght: 2}]\n",
                 "egresses[0].wieght", "unknown field"},
        BadEntry{MIXED "egresses: [{kind: source, address: }]\n", "egresses[0].address",
                 "has no value"},
        BadEntry{MIXED "egresses: {kind: source}\n", "egresses", "expected a list"},
        BadEntry{MIXED "egresses: [127.0.1.1]\n", "egresses[0]", "expected a mapping"},
        BadEntry{SOURCE "listen: [{type: socks5, port: 1}]\n", "listen[0].type",
                 "not one of: tcp, socks, http, mixed"},
        BadEntry{SOURCE "listen: [{port: 1}]\n", "listen[0].type", "required"},
        BadEntry{SOURCE "listen: [{type: mixed}]\n", "listen[0].port", "required"},
        BadEntry{SOURCE "listen: [{type: mixed, port: 1}, {type: http, host: localhost, port: "
                        "2}]\n",
                 "listen[1].host", "not an IP address"},
        BadEntry{SOURCE "listen: [{type: mixed, port: 1, users: [{name: u}]}]\n",
                 "listen[0].users[0]", "expected {name, password}"},
        BadEntry{SOURCE "listen: [{type: mixed, port: 1, users: [{name: \"\", password: p}]}]\n",
                 "listen[0].users[0]", "1-255 bytes"},
        BadEntry{"upstream_conf_path: /p.conf\nlisten: [{type: tcp, port: 1, users: [{name: u, "
                 "password: p}]}]\n",
                 "listen[0].users", "no authentication"},
        // Sticky sessions: each mode where its key can come from.
        BadEntry{SOURCE "listen: [{type: mixed, port: 1, sticky: cookie}]\n", "listen[0].sticky",
                 "'cookie' is not one of: none, client, username, key, destination"},
        BadEntry{SOURCE "listen: [{type: socks, port: 1, sticky: username}]\n", "listen[0].sticky",
                 "username needs users"},
        BadEntry{SOURCE "listen: [{type: mixed, port: 1, sticky: key}]\n", "listen[0].sticky",
                 "X-Egress-Key header of a tcp front end"},
        // Security defaults: a proxy beyond loopback without users is refused.
        BadEntry{SOURCE "listen: [{type: mixed, host: 0.0.0.0, port: 1080}]\n", "listen[0]",
                 "open proxy"},
        BadEntry{SOURCE "listen: [{type: http, host: \"::\", port: 1080}]\n", "listen[0]",
                 "allow_open_proxy: true"},
        BadEntry{SOURCE "listen: [{type: mixed, port: 9095}]\n", "listen[0]", "is the probe_port"},
        // Cross-key rules.
        BadEntry{SOURCE, "listen", "need a socks, http, mixed or redirect front end"},
        BadEntry{MIXED, "egresses", "need source or upstream egresses"},
        BadEntry{"listen: [{type: tcp, port: 1}]\n", "upstream_conf_path", "required"},
        BadEntry{MIXED SOURCE "handshake_timeout: 0\n", "handshake_timeout", "longer than 0s"},
        BadEntry{MIXED SOURCE "allow_destinations: [10.0.0.0/8, 10.0.0.0/33]\n",
                 "allow_destinations[1]", "the prefix must be 0-32"},
        BadEntry{MIXED SOURCE "deny_destinations: example.com\n", "deny_destinations",
                 "is not an address or an address/prefix"},
        BadEntry{MIXED SOURCE "deny_destinations: [\"[::1]:0\"]\n", "deny_destinations[0]",
                 "bad port"},
        BadEntry{MIXED SOURCE "resolver_threads: 0\n", "resolver_threads", "between 1 and"},
        // Per-client caps.
        BadEntry{MIXED SOURCE "max_connections_per_client: -1\n", "max_connections_per_client",
                 "between 0 and"},
        BadEntry{MIXED SOURCE "max_connections_per_client_egress: two\n",
                 "max_connections_per_client_egress", "integer"},
        BadEntry{MIXED SOURCE "client_prefix_v4: 33\n", "client_prefix_v4", "between 1 and 32"},
        BadEntry{MIXED SOURCE "client_prefix_v6: 0\n", "client_prefix_v6", "between 1 and 128"},
        BadEntry{MIXED SOURCE "stats_interval: 100ms\n", "stats_interval", "at least 1s"},
        // Gateway mode: a redirect front end has no users; its keys go together.
        BadEntry{SOURCE "listen: [{type: redirect, port: 1, users: [{name: u, password: p}]}]\n",
                 "listen[0].users", "a redirect front end has no authentication"},
        BadEntry{SOURCE "listen: [{type: redirect, port: 8888}]\ngateway_auto_config: true\n",
                 "gateway_subnets", "required with gateway_auto_config"},
        BadEntry{MIXED SOURCE "gateway_auto_config: true\ngateway_subnets: [10.9.0.0/24]\n",
                 "gateway_auto_config", "needs a redirect front end"},
        BadEntry{MIXED SOURCE "gateway_nat_interface: eth0\n", "gateway_nat_interface",
                 "set it too"},
        BadEntry{MIXED SOURCE "gateway_subnets: [10.9.0.0/33]\n", "gateway_subnets", "prefix"},
        BadEntry{MIXED SOURCE "dns_port: 5353\ngateway_subnets: [10.9.0.0/24]\n", "dns_upstreams",
                 "required with dns_port"},
        BadEntry{MIXED SOURCE "dns_port: 5353\ndns_upstreams: [192.0.2.53]\n", "gateway_subnets",
                 "answers these clients only"},
        BadEntry{MIXED SOURCE "dns_upstreams: [dns.google]\n", "dns_upstreams[0]",
                 "is not an IP address"},
        BadEntry{MIXED SOURCE "dns_upstreams: [\"192.0.2.53:0\"]\n", "dns_upstreams[0]",
                 "no valid port"},
        BadEntry{MIXED SOURCE "dns_upstreams: [\"[2001:db8::53:53\"]\n", "dns_upstreams[0]",
                 "[IPv6]:port"},
        BadEntry{MIXED SOURCE "dns_max_in_flight: 0\n", "dns_max_in_flight", "between 1 and"},
        // Active checks.
        BadEntry{MIXED "egresses: [{kind: source, address: 127.0.1.1, check: example.com}]\n",
                 "egresses[0].check", "expected tcp://HOST:PORT"},
        BadEntry{MIXED "egresses: [{kind: source, address: 127.0.1.1, check: \"https://a/\"}]\n",
                 "egresses[0].check", "expected tcp://HOST:PORT"},
        BadEntry{MIXED "egresses: [{kind: source, address: 127.0.1.1, check: \"tcp://a\"}]\n",
                 "egresses[0].check", "needs a port"},
        BadEntry{MIXED "egresses: [{kind: source, address: 127.0.1.1, check: \"tcp://a:0\"}]\n",
                 "egresses[0].check", "bad port"},
        BadEntry{MIXED "egresses: [{kind: source, address: 127.0.1.1, check: \"http://:80/\"}]\n",
                 "egresses[0].check", "no host"},
        BadEntry{MIXED "egresses: [{kind: source, address: 127.0.1.1, check: \"http://[::1/\"}]\n",
                 "egresses[0].check", "missing ']'"},
        BadEntry{MIXED "egresses: [{kind: source, address: 127.0.1.1, check_interval: 5s}]\n",
                 "egresses[0].check_interval", "needs a check"},
        BadEntry{MIXED "egresses: [{kind: source, address: 127.0.1.1, check: \"tcp://a:1\", "
                       "check_interval: 100ms}]\n",
                 "egresses[0].check_interval", "between 1s and 24h"}));

TEST(DispatchConfigTest, an_egress_check_is_a_tcp_connect_or_an_http_get) {
  const Config c = load(MIXED
                        "egresses:\n"
                        "  - {kind: source, address: 127.0.1.1, check: \"tcp://192.0.2.7:443\"}\n"
                        "  - {kind: upstream, host: 127.0.0.1, port: 7777, check_interval: 5s,\n"
                        "     check: \"http://example.com/generate_204\"}\n"
                        "  - {kind: source, address: 127.0.1.2, check: \"http://[::1]:8080\"}\n"
                        "  - {kind: source, address: 127.0.1.3}\n");
  using Kind = ipm::config::EgressCheck::Kind;
  ASSERT_EQ(c.egresses.size(), 4U);
  ASSERT_TRUE(c.egresses[0].check);
  EXPECT_EQ(c.egresses[0].check->kind, Kind::tcp);
  EXPECT_EQ(c.egresses[0].check->host, "192.0.2.7");
  EXPECT_EQ(c.egresses[0].check->port, 443);
  EXPECT_EQ(c.egresses[0].check_interval, 30s);
  ASSERT_TRUE(c.egresses[1].check);
  EXPECT_EQ(c.egresses[1].check->kind, Kind::http);
  EXPECT_EQ(c.egresses[1].check->host, "example.com");
  EXPECT_EQ(c.egresses[1].check->port, 80);
  EXPECT_EQ(c.egresses[1].check->path, "/generate_204");
  EXPECT_EQ(c.egresses[1].check_interval, 5s);
  ASSERT_TRUE(c.egresses[2].check);
  EXPECT_EQ(c.egresses[2].check->host, "::1");
  EXPECT_EQ(c.egresses[2].check->port, 8080);
  EXPECT_EQ(c.egresses[2].check->path, "/");
  EXPECT_FALSE(c.egresses[3].check);
}

TEST(DispatchConfigTest, an_open_proxy_runs_only_when_the_operator_says_so) {
  const Config c = load(SOURCE
                        "listen: [{type: mixed, host: 0.0.0.0, port: 1080}]\n"
                        "allow_open_proxy: true\n");
  EXPECT_TRUE(c.allow_open_proxy);
  // With users it is not open: no flag needed.
  EXPECT_NO_THROW(load(SOURCE "listen: [{type: socks, host: 0.0.0.0, port: 1080, users: "
                              "[{name: u, password: p}]}]\n"));
}

// Gateway mode's YAML form: what `dispatch -gateway -auto-config` stands for. A redirect front
// end on the clients' side without users is no open proxy: it dials only where a redirect
// rule sent a connection.
TEST(DispatchConfigTest, gateway_mode_loads_with_its_redirect_front_end_beyond_loopback) {
  const Config c = load(SOURCE
                        "listen: [{type: redirect, host: 192.168.100.1, port: 8888, sticky: "
                        "client}]\n"
                        "gateway_subnets: [192.168.100.0/24, \"fd00:100::/64\"]\n"
                        "gateway_auto_config: true\n"
                        "gateway_nat_interface: eth0\n"
                        "dns_host: 192.168.100.1\ndns_port: 5353\n"
                        "dns_upstreams: [192.0.2.53, \"[2001:db8::53]:5353\", \"2001:db8::54\"]\n"
                        "dns_timeout: 2s\n");
  ASSERT_EQ(c.listen.size(), 1U);
  EXPECT_EQ(c.listen[0].type, ipm::config::FrontEnd::redirect);
  EXPECT_EQ(c.listen[0].sticky, ipm::config::Sticky::client);
  EXPECT_FALSE(c.allow_open_proxy);
  EXPECT_TRUE(c.gateway_auto_config);
  EXPECT_EQ(c.dns_port, 5353);
  EXPECT_EQ(c.dns_timeout, std::chrono::seconds(2));
  std::string why;
  EXPECT_EQ(ipm::config::parse_dns_upstream(c.dns_upstreams[1], why),
            (ipm::config::DnsUpstream{"2001:db8::53", 5353}));
  EXPECT_EQ(ipm::config::parse_dns_upstream(c.dns_upstreams[2], why),
            (ipm::config::DnsUpstream{"2001:db8::54", 53}));
}

TEST(DispatchConfigTest, bad_entry_in_a_file_says_where_it_is) {
  try {
    load("upstream_conf_path: /p.conf\n" MIXED "egresses: [{kind: source, addr: 1.2.3.4}]\n");
    ADD_FAILURE();
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("egresses[0].addr: unknown field (test.yaml:3:1)"));
  }
}

TEST(DispatchConfigTest, listen_address_loopback_rule) {
  EXPECT_TRUE(ipm::config::is_loopback_address("127.0.0.1"));
  EXPECT_TRUE(ipm::config::is_loopback_address("127.9.9.9"));
  EXPECT_TRUE(ipm::config::is_loopback_address("::1"));
  EXPECT_FALSE(ipm::config::is_loopback_address("0.0.0.0"));
  EXPECT_FALSE(ipm::config::is_loopback_address("::"));
  EXPECT_FALSE(ipm::config::is_loopback_address("192.0.2.1"));
}

}  // namespace
