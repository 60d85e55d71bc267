#include "clients/source_ip_rules.hpp"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/clients/fork_example.hpp"

namespace {

using ipm::clients::ClientAddress;
using ipm::clients::egress_id;
using ipm::clients::SourceIpRules;
using testing::HasSubstr;

ClientAddress addr(const char* text) {
  return *ClientAddress::parse(text);
}

TEST(SourceIpRulesTest, the_forks_example_loads_unchanged) {
  const SourceIpRules rules = SourceIpRules::parse(fork_example());
  ASSERT_EQ(rules.egresses().size(), 2U);
  EXPECT_EQ(rules.rule_count(), 4U);
  const auto* high = rules.match("192.168.1.10", addr("192.168.0.100"));
  ASSERT_NE(high, nullptr);
  EXPECT_EQ(high->ratio, 5U);
  EXPECT_EQ(high->description, "High priority client - more bandwidth");
  EXPECT_EQ(rules.match("192.168.1.10", addr("192.168.0.101"))->ratio, 1U);
  EXPECT_EQ(rules.match("10.81.201.18", addr("192.168.0.100"))->ratio, 2U);
  // The subnet rule applies to every address in it: the fork's exact-match lookup did not.
  EXPECT_EQ(rules.match("192.168.1.10", addr("10.0.0.77"))->ratio, 3U);
  EXPECT_EQ(rules.match("192.168.1.10", addr("10.0.1.77")), nullptr);
  EXPECT_EQ(rules.match("10.81.201.18", addr("10.0.0.77")), nullptr);
  EXPECT_TRUE(rules.names(addr("10.0.0.1")));
  EXPECT_FALSE(rules.names(addr("192.168.0.102")));
}

TEST(SourceIpRulesTest, the_longest_prefix_wins_whatever_the_order_in_the_file) {
  const SourceIpRules rules = SourceIpRules::parse(R"({
    "127.0.0.2:0": {
      "10.0.0.0/8":  {"contention_ratio": 1},
      "10.1.2.3":    {"contention_ratio": 7},
      "10.1.0.0/16": {"contention_ratio": 4},
      "::/0":        {"contention_ratio": 2},
      "2001:db8::/32": {"contention_ratio": 0, "description": "never"}
    }})");
  EXPECT_EQ(rules.match("127.0.0.2", addr("10.1.2.3"))->ratio, 7U);
  EXPECT_EQ(rules.match("127.0.0.2", addr("10.1.2.4"))->ratio, 4U);
  EXPECT_EQ(rules.match("127.0.0.2", addr("10.2.0.1"))->ratio, 1U);
  EXPECT_EQ(rules.match("127.0.0.2", addr("2001:db8::1"))->ratio, 0U);
  EXPECT_EQ(rules.match("127.0.0.2", addr("2001:db9::1"))->ratio, 2U);
  // A dual-stack listener's IPv4-mapped address is the IPv4 client.
  EXPECT_EQ(rules.match("127.0.0.2", addr("::ffff:10.1.2.3"))->ratio, 7U);
  EXPECT_EQ(rules.match("127.0.0.2", addr("192.0.2.1")), nullptr);
}

TEST(SourceIpRulesTest, egress_keys_are_source_addresses_or_upstream_host_ports) {
  EXPECT_EQ(egress_id("192.168.1.10:0"), "192.168.1.10");
  EXPECT_EQ(egress_id("192.168.1.10"), "192.168.1.10");
  EXPECT_EQ(egress_id("[::1]:0"), "::1");
  EXPECT_EQ(egress_id("2001:DB8::1"), "2001:db8::1");
  EXPECT_EQ(egress_id("127.0.0.1:1080"), "127.0.0.1:1080");
  EXPECT_EQ(egress_id("[::1]:1080"), "[::1]:1080");
  EXPECT_EQ(egress_id("Proxy.Example:1080"), "proxy.example:1080");
  for (const char* bad : {"", "proxy.example", "proxy.example:0", "1.2.3.4:65536", "1.2.3.4:x",
                          "[::1]", "[::1]:", "a b:80", ":80", "1.2.3.4:"})
    EXPECT_FALSE(egress_id(bad).has_value()) << bad;
}

struct Bad {
  const char* json;
  const char* names;  // the place and the problem the message must give
};

TEST(SourceIpRulesTest, a_bad_file_names_the_entry_and_the_problem) {
  const Bad cases[] = {
      {"{", "not JSON"},
      {"[]", "top level is an object"},
      {R"({"nowhere": {}})", R"(["nowhere"]: not an egress)"},
      {R"({"1.2.3.4:0": []})", R"(["1.2.3.4:0"]: an egress's rules are an object)"},
      {R"({"1.2.3.4:0": {"10.0.0.0/33": {"contention_ratio": 1}}})",
       R"(["1.2.3.4:0"]["10.0.0.0/33"]: '10.0.0.0/33': the prefix must be 0-32)"},
      {R"({"1.2.3.4:0": {"client": {"contention_ratio": 1}}})",
       R"(["1.2.3.4:0"]["client"]: 'client' is not an address)"},
      {R"({"1.2.3.4:0": {"10.0.0.1": 5}})", R"(["10.0.0.1"]: a rule is an object)"},
      {R"({"1.2.3.4:0": {"10.0.0.1": {"contention_ratio": -1}}})",
       R"(["10.0.0.1"].contention_ratio: must be a whole number from 0)"},
      {R"({"1.2.3.4:0": {"10.0.0.1": {"contention_ratio": 2.5}}})", "not 2.5"},
      {R"({"1.2.3.4:0": {"10.0.0.1": {"contention_ratio": "5"}}})", R"(not "5")"},
      {R"({"1.2.3.4:0": {"10.0.0.1": {"description": "x"}}})", "contention_ratio is missing"},
      {R"({"1.2.3.4:0": {"10.0.0.1": {"contention_ratio": 1, "ratio": 2}}})",
       R"(["10.0.0.1"].ratio: unknown field)"},
      {R"({"1.2.3.4:0": {"10.0.0.1": {"contention_ratio": 1, "source_ip": "10.0.0.2"}}})",
       "'10.0.0.2' differs from the rule's key '10.0.0.1'"},
      {R"({"1.2.3.4:0": {"10.0.0.1": {"contention_ratio": 1, "description": 3}}})",
       ".description: must be a string"},
      {R"({"1.2.3.4:0": {}, "1.2.3.4": {}})", "names the same egress as another key (1.2.3.4)"},
  };
  for (const Bad& c : cases) {
    try {
      SourceIpRules::parse(c.json);
      ADD_FAILURE() << "accepted: " << c.json;
    } catch (const std::invalid_argument& e) {
      EXPECT_THAT(e.what(), HasSubstr(c.names)) << c.json;
    }
  }
  // A whole number written as 2.0 is the same number.
  EXPECT_EQ(SourceIpRules::parse(R"({"1.2.3.4:0": {"10.0.0.1": {"contention_ratio": 2.0}}})")
                .match("1.2.3.4", addr("10.0.0.1"))
                ->ratio,
            2U);
}

TEST(SourceIpRulesTest, load_names_the_file) {
  try {
    SourceIpRules::load("/nonexistent/source_ip_rules.json");
    ADD_FAILURE();
  } catch (const std::invalid_argument& e) {
    EXPECT_THAT(e.what(), HasSubstr("/nonexistent/source_ip_rules.json: cannot be read"));
  }
}

}  // namespace
