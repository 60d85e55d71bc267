#include "clients/ruled_rotations.hpp"

#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/clients/fork_example.hpp"

namespace {

using ipm::clients::Candidate;
using ipm::clients::ClientAddress;
using ipm::clients::RuledRotations;
using ipm::clients::SourceIpRules;

ClientAddress addr(const char* text) {
  return *ClientAddress::parse(text);
}

std::map<std::string_view, int> draws(RuledRotations& r, const SourceIpRules& rules,
                                      const char* client, const std::vector<Candidate>& offered,
                                      int n) {
  std::map<std::string_view, int> got;
  for (int i = 0; i < n; ++i) {
    const auto pick = r.pick(rules, addr(client), offered);
    if (pick)
      ++got[offered[*pick].id];
  }
  return got;
}

// The fork's README scenario: 192.168.1.10 and 10.81.201.18 are the two egresses (default
// ratio 1 each); the 5x client, the 1x guest and the /24 department each rotate with their own
// ratios.
TEST(RuledRotationsTest, the_forks_scenario_holds_exactly_per_client) {
  const SourceIpRules rules = SourceIpRules::parse(fork_example());
  const std::vector<Candidate> offered = {{"192.168.1.10", 1}, {"10.81.201.18", 1}};
  RuledRotations r;
  // High priority client: 5 on the first egress to 2 on the second, each cycle of 7.
  auto got = draws(r, rules, "192.168.0.100", offered, 70);
  EXPECT_EQ(got["192.168.1.10"], 50);
  EXPECT_EQ(got["10.81.201.18"], 20);
  // The guest: 1 and the second egress's default 1.
  got = draws(r, rules, "192.168.0.101", offered, 70);
  EXPECT_EQ(got["192.168.1.10"], 35);
  EXPECT_EQ(got["10.81.201.18"], 35);
  // Two hosts of the department, each with its own cycle of 3:1.
  for (const char* host : {"10.0.0.7", "10.0.0.8"}) {
    got = draws(r, rules, host, offered, 40);
    EXPECT_EQ(got["192.168.1.10"], 30) << host;
    EXPECT_EQ(got["10.81.201.18"], 10) << host;
  }
  EXPECT_EQ(r.clients(), 4U);
}

TEST(RuledRotationsTest, ratio_zero_keeps_a_client_off_an_egress_and_none_left_is_nullopt) {
  const SourceIpRules rules = SourceIpRules::parse(R"({
    "127.0.1.1:0": {"127.0.0.5": {"contention_ratio": 0}},
    "127.0.1.2:0": {"127.0.0.5": {"contention_ratio": 2}}})");
  RuledRotations r;
  const std::vector<Candidate> both = {{"127.0.1.1", 1}, {"127.0.1.2", 1}};
  const auto got = draws(r, rules, "127.0.0.5", both, 50);
  EXPECT_EQ(got.count("127.0.1.1"), 0U);
  EXPECT_EQ(got.at("127.0.1.2"), 50);
  // The only egress it may use is gone (banned): nothing to offer.
  const std::vector<Candidate> first_only = {{"127.0.1.1", 1}};
  EXPECT_FALSE(r.pick(rules, addr("127.0.0.5"), first_only).has_value());
}

TEST(RuledRotationsTest, the_number_of_rotations_kept_is_bounded) {
  const SourceIpRules rules = SourceIpRules::parse(R"({"127.0.1.1:0": {"10.0.0.0/8":
    {"contention_ratio": 1}}})");
  RuledRotations r(100);
  const std::vector<Candidate> offered = {{"127.0.1.1", 1}};
  for (int i = 0; i < 1000; ++i) {
    const std::string client = "10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256);
    ASSERT_TRUE(r.pick(rules, addr(client.c_str()), offered).has_value());
    ASSERT_LE(r.clients(), 100U);
  }
}

}  // namespace
