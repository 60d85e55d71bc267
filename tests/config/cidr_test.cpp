#include "config/cidr.hpp"

#include <arpa/inet.h>

#include <array>

#include <gtest/gtest.h>

namespace {

using ipm::config::parse_address_rule;

// An address as the bytes a rule matches: 4 for IPv4, 16 for IPv6.
std::vector<std::uint8_t> bytes(const std::string& ip) {
  std::array<std::uint8_t, 16> b{};
  if (inet_pton(AF_INET, ip.c_str(), b.data()) == 1)
    return {b.begin(), b.begin() + 4};
  EXPECT_EQ(inet_pton(AF_INET6, ip.c_str(), b.data()), 1) << ip;
  return {b.begin(), b.end()};
}

struct Match {
  const char* rule;
  const char* address;
  std::uint16_t port;
  bool matches;
};

class CidrRuleMatchTest : public testing::TestWithParam<Match> {};

TEST_P(CidrRuleMatchTest, matches_cidr_and_port) {
  const Match& m = GetParam();
  std::string why;
  const auto rule = parse_address_rule(m.rule, why);
  ASSERT_TRUE(rule) << m.rule << ": " << why;
  EXPECT_EQ(rule->text, m.rule);
  EXPECT_EQ(rule->matches(bytes(m.address), m.port), m.matches)
      << m.rule << " vs " << m.address << ":" << m.port;
}

INSTANTIATE_TEST_SUITE_P(
    Table, CidrRuleMatchTest,
    testing::Values(Match{"10.0.0.0/8", "10.255.1.2", 80, true},
                    Match{"10.0.0.0/8", "11.0.0.1", 80, false},
                    Match{"10.1.2.3/8", "10.9.9.9", 80, true},  // host bits are masked off
                    Match{"127.0.0.1", "127.0.0.1", 1, true},   // a bare IP is a /32
                    Match{"127.0.0.1", "127.0.0.2", 1, false},
                    Match{"127.0.0.0/8:8080", "127.3.3.3", 8080, true},
                    Match{"127.0.0.0/8:8080", "127.3.3.3", 8081, false},
                    Match{"0.0.0.0/0", "203.0.113.9", 443, true},
                    Match{"0.0.0.0/0:25", "203.0.113.9", 443, false},
                    Match{"169.254.0.0/16", "169.254.169.254", 80, true},
                    Match{"192.168.1.0/25", "192.168.1.127", 1, true},
                    Match{"192.168.1.0/25", "192.168.1.128", 1, false},
                    Match{"fe80::/10", "fe80::1", 22, true},
                    Match{"fe80::/10", "fec0::1", 22, false}, Match{"::1", "::1", 80, true},
                    Match{"[::1]:80", "::1", 80, true}, Match{"[::1]:80", "::1", 81, false},
                    Match{"[2001:db8::]/32:443", "2001:db8:ffff::1", 443, true},
                    Match{"2001:db8::/32", "2001:db9::1", 443, false},
                    // An IPv4-mapped IPv6 destination is held to the IPv4 rules...
                    Match{"127.0.0.0/8", "::ffff:127.0.0.1", 80, true},
                    // ...and an IPv4 one never to IPv6 rules.
                    Match{"::/0", "10.0.0.1", 80, false}, Match{"0.0.0.0/0", "::1", 80, false}));

struct Bad {
  const char* rule;
  const char* says;
};

class CidrRuleParseTest : public testing::TestWithParam<Bad> {};

TEST_P(CidrRuleParseTest, refuses_with_a_reason) {
  std::string why;
  EXPECT_FALSE(parse_address_rule(GetParam().rule, why)) << GetParam().rule;
  EXPECT_NE(why.find(GetParam().says), std::string::npos) << why;
}

INSTANTIATE_TEST_SUITE_P(
    Table, CidrRuleParseTest,
    testing::Values(Bad{"", "is not an address"}, Bad{"example.com", "is not an address"},
                    Bad{"10.0.0.0/", "the prefix must be"},
                    Bad{"10.0.0.0/33", "the prefix must be"},
                    Bad{"10.0.0.0/-1", "the prefix must be"}, Bad{"::/129", "the prefix must be"},
                    Bad{"10.0.0.0/8:", "bad port"}, Bad{"10.0.0.0/8:0", "bad port"},
                    Bad{"10.0.0.0/8:65536", "bad port"}, Bad{"10.0.0.0/8:http", "bad port"},
                    Bad{"[::1", "missing ']'"}, Bad{"[::1]x", "expected CIDR[:port]"},
                    Bad{"10.0.0.1 ", "is not an address"}));

}  // namespace
