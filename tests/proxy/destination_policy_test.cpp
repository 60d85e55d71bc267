#include "proxy/destination_policy.hpp"

#include <gtest/gtest.h>

namespace {

using boost::asio::ip::make_address;
using ipm::proxy::DestinationPolicy;

std::vector<ipm::config::AddressRule> rules(std::initializer_list<const char*> texts) {
  std::vector<ipm::config::AddressRule> out;
  for (const char* t : texts) {
    std::string why;
    out.push_back(*ipm::config::parse_address_rule(t, why));
  }
  return out;
}

bool allowed(const DestinationPolicy& p, const char* ip, std::uint16_t port = 80) {
  return p.allowed(make_address(ip), port);
}

TEST(DestinationPolicyTest, refuses_link_local_loopback_unspecified_and_own_addresses) {
  const DestinationPolicy p({}, {}, {make_address("192.0.2.10"), make_address("2001:db8::10")});
  for (const char* ip :
       {"169.254.169.254", "fe80::1", "127.0.0.1", "127.1.2.3", "::1", "0.0.0.0",
        "::", "192.0.2.10", "2001:db8::10", "::ffff:127.0.0.1", "::ffff:169.254.169.254"})
    EXPECT_FALSE(allowed(p, ip)) << ip;
  for (const char* ip : {"192.0.2.11", "198.51.100.1", "2001:db8::11", "10.0.0.1", "fec0::1"})
    EXPECT_TRUE(allowed(p, ip)) << ip;
}

TEST(DestinationPolicyTest, allow_opens_a_refused_range_and_deny_wins_over_it) {
  const DestinationPolicy p(rules({"127.0.0.0/8", "169.254.169.254:80"}),
                            rules({"127.0.0.1:22", "10.0.0.0/8"}), {});
  EXPECT_TRUE(allowed(p, "127.0.0.1", 8080));
  EXPECT_FALSE(allowed(p, "127.0.0.1", 22));  // deny wins
  EXPECT_TRUE(allowed(p, "169.254.169.254", 80));
  EXPECT_FALSE(allowed(p, "169.254.169.254", 443));  // the allow rule has a port
  EXPECT_FALSE(allowed(p, "10.1.2.3", 443));         // denied beyond the defaults
  EXPECT_FALSE(allowed(p, "::1"));                   // an IPv4 rule opens no IPv6 address
}

}  // namespace
