#include "app/pool_egress_source.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "clients/source_ip_rules.hpp"
#include "config/config.hpp"
#include "pool/selector.hpp"
#include "strategy/shared_engine.hpp"

namespace ipm::app {
namespace {

class PoolEgressSourceTest : public ::testing::Test {
 protected:
  PoolEgressSourceTest()
      : engine_(config_, selector_,
                {pool::Egress{"127.0.1.1", 19001, {}, 1}, pool::Egress{"127.0.1.2", 19002, {}, 1}},
                pool::TimePoint{}),
        source_(selector_, engine_) {}

  config::Config config_;
  pool::Selector selector_{config::Selection::least_conn};
  strategy::SharedEngine engine_;
  PoolEgressSource source_;
};

TEST_F(PoolEgressSourceTest, every_pick_is_released_by_its_outcome_or_by_abandoned) {
  const auto a = source_.pick(pool::kNginxRequest, {});
  const auto b = source_.pick(pool::kNginxRequest, {});
  const auto c = source_.pick(pool::kNginxRequest, {});
  ASSERT_TRUE(a && b && c);
  EXPECT_EQ(source_.leases(), 3U);

  pool::DialOutcome refused{a->ip, a->port, pool::TimePoint{}, pool::DialResult::refused, {}};
  source_.report(refused);
  EXPECT_EQ(source_.leases(), 2U) << "a failed dial releases its pick";

  source_.abandoned(*b);  // the client left, or the proxy had no descriptor to dial with
  EXPECT_EQ(source_.leases(), 1U) << "an abandoned pick is released too";

  pool::DialOutcome ok{c->ip, c->port, pool::TimePoint{}, pool::DialResult::ok, {}};
  source_.report(ok);
  source_.opened(*c);
  EXPECT_EQ(source_.leases(), 1U) << "open: still counted by least_conn";
  source_.closed(*c);
  EXPECT_EQ(source_.leases(), 0U);
}

TEST_F(PoolEgressSourceTest, a_target_is_grouped_into_its_site_and_skips_the_ips_out_for_it) {
  const auto banned = engine_.update([](strategy::Engine& e) {
    return e.ban_site("127.0.1.1", "a.example", pool::TimePoint::max(), "operator", {});
  });
  ASSERT_EQ(banned, strategy::SiteCommand::done);
  pool::Request request = pool::kNginxRequest;
  for (const std::string_view target : {"www.a.example", "A.EXAMPLE:443", "x.y.a.example"}) {
    request.target = target;
    for (int i = 0; i < 50; ++i) {
      const auto e = source_.pick(request, {});
      ASSERT_TRUE(e);
      EXPECT_EQ(e->ip, "127.0.1.2") << target << " is a.example, which 127.0.1.1 is out for";
      source_.abandoned(*e);
    }
  }
  // Another site, no target and a host-less front end's destination all use both IPs.
  int first_for_other = 0;
  request.target = "b.example";
  for (int i = 0; i < 50; ++i) {
    const auto e = source_.pick(request, {});
    ASSERT_TRUE(e);
    first_for_other += e->ip == "127.0.1.1" ? 1 : 0;
    source_.abandoned(*e);
  }
  EXPECT_GT(first_for_other, 0);
  int first_without = 0;
  for (int i = 0; i < 50; ++i) {
    const auto e = source_.pick(pool::kNginxRequest, {});
    ASSERT_TRUE(e);
    first_without += e->ip == "127.0.1.1" ? 1 : 0;
    source_.abandoned(*e);
  }
  EXPECT_GT(first_without, 0);
  // The only IP left for a.example failed to dial: the site falls back to the pool rather
  // than to nothing (the per-site cap keeps that rare).
  request.target = "a.example";
  const pool::Egress tried[] = {pool::Egress{"127.0.1.2", 19002, {}, 1}};
  const auto fallback = source_.pick(request, tried);
  ASSERT_TRUE(fallback);
  EXPECT_EQ(fallback->ip, "127.0.1.1");
  source_.abandoned(*fallback);
}

// The enhanced fork's source_ip_rules over the pool's two egresses: 127.0.1.1 "IP:0" as the
// fork writes source egresses, 127.0.1.2 plain.
constexpr const char* kRules = R"({
  "127.0.1.1:0": {
    "10.0.0.5": {"source_ip": "10.0.0.5", "contention_ratio": 5, "description": "5x client"},
    "10.0.0.0/24": {"source_ip": "10.0.0.0/24", "contention_ratio": 3, "description": "dept"},
    "10.0.0.7": {"source_ip": "10.0.0.7", "contention_ratio": 0, "description": "never .1"},
    "fd00::/64": {"source_ip": "fd00::/64", "contention_ratio": 2, "description": "v6 net"}
  },
  "127.0.1.2": {
    "10.0.0.0/24": {"source_ip": "10.0.0.0/24", "contention_ratio": 1, "description": "dept"},
    "10.0.0.9": {"source_ip": "10.0.0.9", "contention_ratio": 0, "description": "only .1"}
  }
})";

class RuledPickTest : public PoolEgressSourceTest {
 protected:
  RuledPickTest() {
    source_.set_rules(
        std::make_shared<const clients::SourceIpRules>(clients::SourceIpRules::parse(kRules)));
  }

  // How often each egress is picked for `client` over `n` picks (each released at once).
  std::map<std::string, int> picks(std::string_view client, int n,
                                   std::span<const pool::Egress> tried = {}) {
    std::map<std::string, int> seen;
    pool::Request request = pool::kNginxRequest;
    request.client = client;
    for (int i = 0; i < n; ++i) {
      const auto e = source_.pick(request, tried);
      seen[e ? e->ip : "refused"]++;
      if (e)
        source_.abandoned(*e);
    }
    return seen;
  }
};

TEST_F(RuledPickTest, each_ruled_client_gets_its_ratios_exactly_over_every_cycle) {
  using Seen = std::map<std::string, int>;
  // Host rule 5 on .1, its subnet's 1 on .2: 5 of every 6.
  EXPECT_EQ(picks("10.0.0.5:40000", 12), (Seen{{"127.0.1.1", 10}, {"127.0.1.2", 2}}));
  // A host of the subnet: 3:1.
  EXPECT_EQ(picks("10.0.0.6:40000", 8), (Seen{{"127.0.1.1", 6}, {"127.0.1.2", 2}}));
  // Ratio 0 on .1 (host rule beats the subnet's 3): never .1.
  EXPECT_EQ(picks("10.0.0.7:1", 10), (Seen{{"127.0.1.2", 10}}));
  // IPv6: the v6 net's 2 on .1, no rule of .2 for it: the egress's own weight 1.
  EXPECT_EQ(picks("[fd00::1]:443", 9), (Seen{{"127.0.1.1", 6}, {"127.0.1.2", 3}}));
  // An IPv4-mapped client is its IPv4 address.
  EXPECT_EQ(picks("[::ffff:10.0.0.5]:2", 6), (Seen{{"127.0.1.1", 5}, {"127.0.1.2", 1}}));
}

TEST_F(RuledPickTest, an_unruled_client_gets_the_pools_policy) {
  const auto seen = picks("10.9.9.9:5000", 60);
  EXPECT_GT(seen.at("127.0.1.1"), 0);
  EXPECT_GT(seen.at("127.0.1.2"), 0);
  EXPECT_EQ(seen.count("refused"), 0U);
}

TEST_F(RuledPickTest, failover_excludes_a_failed_egress_and_never_falls_back_to_a_ratio_0_one) {
  using Seen = std::map<std::string, int>;
  const pool::Egress first{"127.0.1.1", 19001, {}, 1};
  EXPECT_EQ(picks("10.0.0.5:1", 4, std::span(&first, 1)), (Seen{{"127.0.1.2", 4}}));
  // 10.0.0.9 may only use .1: with .1 tried, it is refused, never given .2.
  EXPECT_EQ(picks("10.0.0.9:1", 3, std::span(&first, 1)), (Seen{{"refused", 3}}));
  // The same with .1 banned by the operator: refused (the fork would hand it the first).
  ASSERT_TRUE(engine_.update([](strategy::Engine& e) {
    return e.ban("127.0.1.1", pool::TimePoint::max(), "test", pool::TimePoint{});
  }));
  EXPECT_EQ(picks("10.0.0.9:1", 3), (Seen{{"refused", 3}}));
  EXPECT_EQ(picks("10.0.0.5:1", 3), (Seen{{"127.0.1.2", 3}}));
  EXPECT_EQ(source_.leases(), 0U);
}

TEST_F(RuledPickTest, new_rules_apply_from_the_next_pick) {
  using Seen = std::map<std::string, int>;
  source_.set_rules(std::make_shared<const clients::SourceIpRules>(clients::SourceIpRules::parse(
      R"({"127.0.1.2:0": {"10.0.0.5": {"source_ip": "10.0.0.5", "contention_ratio": 2}}})")));
  EXPECT_EQ(picks("10.0.0.5:1", 6), (Seen{{"127.0.1.1", 2}, {"127.0.1.2", 4}}));
  source_.set_rules(nullptr);
  const auto seen = picks("10.0.0.9:1", 40);  // no rules: the pool's policy
  EXPECT_GT(seen.at("127.0.1.1"), 0);
  EXPECT_GT(seen.at("127.0.1.2"), 0);
}

// Sticky sessions over ten egresses of weight 1: where each of 1,000 keys lands, checked key
// by key as the pool changes.
class StickyPickTest : public ::testing::Test {
 protected:
  static std::vector<pool::Egress> ten() {
    std::vector<pool::Egress> out;
    for (int i = 1; i <= 10; ++i)
      out.push_back(pool::Egress{"127.0.2." + std::to_string(i), 0, {}, 1});
    return out;
  }
  StickyPickTest()
      : engine_(config_, selector_, ten(), pool::TimePoint{}), source_(selector_, engine_) {}

  // The egress each key lands on (each pick released at once).
  std::map<std::string, std::string> land(int keys, std::string_view client = "10.9.9.9:1") {
    std::map<std::string, std::string> out;
    for (int i = 0; i < keys; ++i) {
      const std::string key = "session-" + std::to_string(i);
      pool::Request request = pool::kNginxRequest;
      request.client = client;
      request.key = key;
      const auto e = source_.pick(request, {});
      out[key] = e ? e->ip : "refused";
      if (e)
        source_.abandoned(*e);
    }
    return out;
  }
  bool update(const std::function<bool(strategy::Engine&)>& change) {
    return engine_.update(change);
  }

  config::Config config_;
  pool::Selector selector_{config::Selection::weighted};
  strategy::SharedEngine engine_;
  PoolEgressSource source_;
};

TEST_F(StickyPickTest, a_key_keeps_its_egress_and_an_egress_that_leaves_moves_only_its_keys) {
  const auto before = land(1000);
  EXPECT_EQ(land(1000), before) << "the same key lands on the same egress";
  std::map<std::string, int> per_egress;
  for (const auto& [key, ip] : before)
    ++per_egress[ip];
  ASSERT_EQ(per_egress.size(), 10U) << "every egress gets keys";
  for (const auto& [ip, n] : per_egress)
    EXPECT_GT(n, 50) << ip;

  ASSERT_TRUE(update([](strategy::Engine& e) {
    return e.ban("127.0.2.3", pool::TimePoint::max(), "test", pool::TimePoint{});
  }));
  const auto without = land(1000);
  int moved = 0;
  for (const auto& [key, ip] : before) {
    if (ip == "127.0.2.3") {
      EXPECT_NE(without.at(key), "127.0.2.3") << key;
      ++moved;
    } else {
      EXPECT_EQ(without.at(key), ip) << key << " moved although its egress stayed";
    }
  }
  EXPECT_EQ(moved, per_egress["127.0.2.3"]);

  // Back in the pool (on probation), it gets its own keys back.
  ASSERT_TRUE(update([](strategy::Engine& e) { return e.unban("127.0.2.3", pool::TimePoint{}); }));
  EXPECT_EQ(land(1000), before);
}

TEST_F(StickyPickTest, a_weight_change_moves_only_a_proportional_share_onto_that_egress) {
  const auto before = land(1000);
  ASSERT_TRUE(
      update([](strategy::Engine& e) { return e.set_weight("127.0.2.3", 2, pool::TimePoint{}); }));
  const auto after = land(1000);
  int moved = 0;
  for (const auto& [key, ip] : before) {
    if (after.at(key) != ip) {
      EXPECT_EQ(after.at(key), "127.0.2.3") << key << " moved elsewhere than onto the heavier one";
      ++moved;
    }
  }
  // Its share goes from 1/10 to 2/11 of the keys: about 82 of 1,000 move, all onto it.
  EXPECT_GT(moved, 40);
  EXPECT_LT(moved, 130);
}

TEST_F(StickyPickTest, a_failed_dial_moves_the_connection_not_the_key) {
  const auto before = land(20);
  for (const auto& [key, ip] : before) {
    pool::Request request = pool::kNginxRequest;
    request.key = key;
    const pool::Egress tried{ip, 0, {}, 1};
    const auto e = source_.pick(request, std::span(&tried, 1));
    ASSERT_TRUE(e);
    EXPECT_NE(e->ip, ip);
    source_.abandoned(*e);
  }
  EXPECT_EQ(land(20), before) << "the next connection of the key goes back to its egress";
  EXPECT_EQ(source_.leases(), 0U);
}

TEST_F(StickyPickTest, a_ruled_client_sticks_within_its_own_ratios) {
  // 10.0.0.9 may not use .1 to .5: its keys land only on .6 to .10.
  std::string rules = "{";
  for (int i = 1; i <= 5; ++i)
    rules += std::string(i > 1 ? "," : "") + R"("127.0.2.)" + std::to_string(i) +
             R"(": {"10.0.0.9": {"source_ip": "10.0.0.9", "contention_ratio": 0}})";
  rules += "}";
  source_.set_rules(
      std::make_shared<const clients::SourceIpRules>(clients::SourceIpRules::parse(rules)));
  const auto ruled = land(200, "10.0.0.9:1");
  for (const auto& [key, ip] : ruled) {
    const int last = std::stoi(ip.substr(ip.rfind('.') + 1));
    EXPECT_GE(last, 6) << key << " on " << ip;
  }
  // One connection without a key moves the client's rotation on; its keys stay where they were.
  pool::Request plain = pool::kNginxRequest;
  plain.client = "10.0.0.9:3";
  const auto e = source_.pick(plain, {});
  ASSERT_TRUE(e);
  source_.abandoned(*e);
  EXPECT_EQ(land(200, "10.0.0.9:2"), ruled) << "its keys stick too";
}

}  // namespace
}  // namespace ipm::app
