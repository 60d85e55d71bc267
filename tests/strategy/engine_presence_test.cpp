#include "strategy/engine.hpp"

#include <gtest/gtest.h>

#include "engine_fixture.hpp"

// A source whose address or link leaves the host (rtnetlink) is out of selection until it
// returns, whatever its health state, which it keeps.

namespace {

using namespace ipm::strategy::test;
using ipm::pool::IpState;
using ipm::strategy::DecisionKind;
using ipm::strategy::Engine;

TEST(EnginePresenceTest, an_absent_source_is_never_selectable_and_returns_in_its_state) {
  auto pool = egresses(2);
  for (auto& e : pool)
    e.kind = ipm::pool::EgressKind::source;
  Engine e(test_config(), pool, kBase);
  const std::string ip = pool[0].ip;
  const auto version = e.selection_version();
  ASSERT_TRUE(e.set_present(ip, false, at_s(1)));
  EXPECT_GT(e.selection_version(), version);
  EXPECT_FALSE(e.snapshot().ips[0].selectable);
  EXPECT_TRUE(e.snapshot().ips[1].selectable);
  EXPECT_EQ(e.find(ip)->state, IpState::available) << "its health is its own";
  EXPECT_EQ(decisions_of(e, ip).back().kind, DecisionKind::address_gone);
  const auto decisions = e.decisions_after(0).size();
  EXPECT_TRUE(e.set_present(ip, false, at_s(2)));
  EXPECT_EQ(e.decisions_after(0).size(), decisions) << "said once";

  ASSERT_TRUE(e.set_present(ip, true, at_s(3)));
  EXPECT_TRUE(e.snapshot().ips[0].selectable);
  EXPECT_EQ(decisions_of(e, ip).back().kind, DecisionKind::address_back);
  EXPECT_FALSE(e.set_present("192.0.2.9", false, at_s(4))) << "not in the pool";
}

TEST(EnginePresenceTest, an_absent_source_is_not_a_least_bad_fallback) {
  auto pool = egresses(2);
  for (auto& e : pool)
    e.kind = ipm::pool::EgressKind::source;
  auto cfg = test_config();
  cfg.all_unavailable = ipm::config::AllUnavailable::least_bad;
  Engine e(cfg, pool, kBase);
  for (long long t = 0; t < 3; ++t) {
    e.apply(dial(pool[0].ip, at_s(t), ipm::pool::DialResult::timeout));
    e.apply(dial(pool[1].ip, at_s(t), ipm::pool::DialResult::timeout));
  }
  ASSERT_TRUE(e.all_unavailable());
  ASSERT_TRUE(e.snapshot().ips[0].selectable) << "least bad while every IP cools";
  e.set_present(pool[0].ip, false, at_s(4));
  EXPECT_FALSE(e.snapshot().ips[0].selectable);
  EXPECT_TRUE(e.snapshot().ips[1].selectable);
}

}  // namespace
