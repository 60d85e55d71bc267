#include "app/egresses.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/errors.hpp"
#include "config/load.hpp"

namespace {

using ipm::config::ConfigError;
using ipm::pool::EgressKind;
using ipm::pool::Family;
using ipm::proxy::InterfaceAddress;
using testing::HasSubstr;

ipm::config::Config dispatch(const std::string& egresses) {
  return ipm::config::load_text("listen: [{type: mixed, port: 8080}]\negresses: " + egresses + "\n",
                                "test.yaml", ipm::config::no_env());
}

InterfaceAddress address(std::string interface, const std::string& ip, bool loopback = false) {
  return {std::move(interface), boost::asio::ip::make_address(ip), true, loopback};
}

const std::vector<InterfaceAddress> kHost = {
    address("lo", "127.0.0.1", true), address("lo", "::1", true),    address("eth0", "fe80::1%1"),
    address("eth0", "2001:db8::10"),  address("eth0", "192.0.2.10"), address("eth1", "fe80::2%2"),
    address("eth2", "198.51.100.7"),
};

TEST(EgressesTest, sources_get_their_family_and_an_interface_its_address) {
  std::vector<std::string> warnings;
  const auto egresses = ipm::app::build_egresses(
      dispatch("[{kind: source, address: 127.0.1.9, weight: 3}, {kind: source, interface: eth0},"
               " {kind: source, address: \"2001:db8::10\"}, {kind: source, address: 127.0.1.4}]"),
      kHost, warnings);
  ASSERT_EQ(egresses.size(), 4U);
  EXPECT_EQ(egresses[0].ip, "127.0.1.9");
  EXPECT_EQ(egresses[0].kind, EgressKind::source);
  EXPECT_EQ(egresses[0].family, Family::ipv4);
  EXPECT_EQ(egresses[0].weight, 3U);
  EXPECT_TRUE(egresses[0].interface.empty());
  // By interface: its IPv4 address first (the IPv6 one is listed before it).
  EXPECT_EQ(egresses[1].ip, "192.0.2.10");
  EXPECT_EQ(egresses[1].interface, "eth0");
  EXPECT_EQ(egresses[2].family, Family::ipv6);
  // Any 127/8 address can be bound without being listed (no warning for .9 and .4).
  EXPECT_EQ(egresses[3].ip, "127.0.1.4");
  EXPECT_THAT(warnings, testing::IsEmpty());
}

TEST(EgressesTest, an_interface_with_only_link_local_ipv6_has_no_usable_address) {
  std::vector<std::string> warnings;
  try {
    ipm::app::build_egresses(dispatch("[{kind: source, address: 127.0.1.1}, {kind: source, "
                                      "interface: eth1}]"),
                             kHost, warnings);
    ADD_FAILURE();
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.key(), "egresses[1].interface");
    EXPECT_THAT(e.what(), HasSubstr("'eth1' has no usable address"));
  }
}

TEST(EgressesTest, an_address_on_no_interface_is_kept_with_a_warning) {
  // Its dials fail (bind_failed) and the engine takes it out until the address appears.
  std::vector<std::string> warnings;
  const auto egresses =
      ipm::app::build_egresses(dispatch("[{kind: source, address: 203.0.113.1}]"), kHost, warnings);
  ASSERT_EQ(egresses.size(), 1U);
  ASSERT_EQ(warnings.size(), 1U);
  EXPECT_THAT(warnings[0], HasSubstr("egresses[0].address: 203.0.113.1 is on no interface"));
}

TEST(EgressesTest, upstreams_are_named_host_port) {
  std::vector<std::string> warnings;
  const auto egresses = ipm::app::build_egresses(
      dispatch("[{kind: upstream, host: 127.0.0.1, port: 7777}, {kind: upstream, host: \"::1\", "
               "port: 3128, protocol: http, username: u, password: p}, {kind: upstream, host: "
               "socks.example, port: 1080, protocol: socks4, weight: 2}]"),
      kHost, warnings);
  ASSERT_EQ(egresses.size(), 3U);
  EXPECT_EQ(egresses[0].ip, "127.0.0.1:7777");
  EXPECT_EQ(egresses[0].kind, EgressKind::upstream);
  EXPECT_EQ(egresses[0].family, Family::any);
  EXPECT_EQ(egresses[1].ip, "[::1]:3128");
  EXPECT_EQ(egresses[1].username, "u");
  EXPECT_EQ(egresses[1].password, "p");
  EXPECT_EQ(egresses[2].ip, "socks.example:1080");
  EXPECT_EQ(egresses[2].family, Family::ipv4);  // SOCKS4 carries no IPv6 address
  EXPECT_EQ(egresses[2].weight, 2U);
}

TEST(EgressesTest, one_egress_twice_is_refused_naming_both) {
  std::vector<std::string> warnings;
  try {
    ipm::app::build_egresses(dispatch("[{kind: source, interface: eth2}, {kind: source, address: "
                                      "198.51.100.7}]"),
                             kHost, warnings);
    ADD_FAILURE();
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.key(), "egresses[1]");
    EXPECT_THAT(e.what(), HasSubstr("198.51.100.7 is also egresses[0]"));
  }
}

TEST(EgressesTest, list_prints_what_go_dispatch_proxy_prints_and_usable_ipv6) {
  // Link-local IPv6 addresses are left out: no destination beyond the link is reached from one.
  EXPECT_EQ(ipm::app::list_interfaces(kHost),
            "--- Listing the available adresses for dispatching\n"
            "[+] eth0, IPv6:2001:db8::10\n"
            "[+] eth0, IPv4:192.0.2.10\n"
            "[+] eth2, IPv4:198.51.100.7\n");
}

}  // namespace
