// The enhanced go-dispatch-proxy's -stats block, as its users read it.
#include "app/stats_block.hpp"

#include <gtest/gtest.h>

#include "clients/source_ip_rules.hpp"
#include "config/config.hpp"
#include "pool/time.hpp"

namespace {

using ipm::app::EgressStats;
using ipm::app::stats_block;

TEST(StatsBlockTest, is_the_forks_block_line_for_line) {
  EgressStats a;
  a.id = "192.168.1.10";
  a.interface = "eth0";
  a.weight = 3;
  a.connections = 12;
  a.successes = 11;
  a.failures = 1;
  a.rules = {{"192.168.0.100", 5, "High priority client"}, {"10.0.0.0/24", 3, "VPN subnet"}};
  a.clients = {{"192.168.0.100", 2}};
  EgressStats b;
  b.id = "127.0.0.1:7777";
  b.disabled = true;
  b.state = ipm::pool::IpState::cooling;
  const std::vector<EgressStats> rows = {a, b};
  EXPECT_EQ(stats_block(rows),
            "\n--- Load Balancer Statistics ---\n"
            "LB 1: 192.168.1.10 (eth0) - Status: enabled\n"
            "  Default ratio: 3, Total connections: 12\n"
            "  Success: 11, Failures: 1, Success rate: 91.67%\n"
            "  Custom source IP rules (2):\n"
            "    192.168.0.100 -> ratio: 5 (High priority client)\n"
            "    10.0.0.0/24 -> ratio: 3 (VPN subnet)\n"
            "  Current source IP connections:\n"
            "    192.168.0.100: 2\n"
            "\n"
            "LB 2: 127.0.0.1:7777 () - Status: disabled, cooling\n"
            "  Default ratio: 1, Total connections: 0\n"
            "  Success: 0, Failures: 0, Success rate: 0.00%\n"
            "\n");
}

TEST(StatsBlockTest, rows_come_from_the_engine_the_rules_and_the_open_connections) {
  const ipm::config::Config cfg;
  std::vector<ipm::pool::Egress> egresses(2);
  for (std::size_t i = 0; i < egresses.size(); ++i) {
    egresses[i].ip = "127.0.1." + std::to_string(i + 1);
    egresses[i].kind = ipm::config::EgressKind::source;
  }
  egresses[0].weight = 5;
  egresses[0].interface = "lo";
  ipm::strategy::Engine engine(cfg, egresses, ipm::pool::TimePoint{});
  ipm::pool::DialOutcome ok;
  ok.ip = "127.0.1.1";
  ok.result = ipm::pool::DialResult::ok;
  ok.kind = ipm::config::EgressKind::source;
  engine.apply(ok);
  ipm::pool::DialOutcome failed = ok;
  failed.result = ipm::pool::DialResult::timeout;
  engine.apply(failed);
  ASSERT_TRUE(engine.set_disabled("127.0.1.2", true, ipm::pool::TimePoint{}));
  const auto rules = ipm::clients::SourceIpRules::parse(
      R"({"127.0.1.1:0": {"10.0.0.5": {"source_ip": "10.0.0.5", "contention_ratio": 2,
                                        "description": "2x"}}})");
  const std::vector<ipm::clients::ClientLimits::ClientCount> open = {
      {"10.0.0.5", 3, {{"127.0.1.1", 2}, {"127.0.1.2", 1}}}};

  const auto rows = ipm::app::collect_stats(engine, &rules, open);
  ASSERT_EQ(rows.size(), 2U);
  EXPECT_EQ(rows[0].interface, "lo");
  EXPECT_EQ(rows[0].weight, 5U);
  EXPECT_EQ(rows[0].connections, 2U);
  EXPECT_EQ(rows[0].successes, 1U);
  EXPECT_EQ(rows[0].failures, 1U);
  ASSERT_EQ(rows[0].rules.size(), 1U);
  EXPECT_EQ(rows[0].rules[0].client, "10.0.0.5");
  EXPECT_EQ(rows[0].rules[0].description, "2x");
  EXPECT_EQ(rows[0].clients, (std::vector<std::pair<std::string, std::uint32_t>>{{"10.0.0.5", 2}}));
  EXPECT_TRUE(rows[1].disabled);
  EXPECT_TRUE(rows[1].rules.empty());
  EXPECT_EQ(rows[1].clients, (std::vector<std::pair<std::string, std::uint32_t>>{{"10.0.0.5", 1}}));
  EXPECT_NE(stats_block(rows).find("LB 2: 127.0.1.2 () - Status: disabled\n"), std::string::npos);
}

}  // namespace
