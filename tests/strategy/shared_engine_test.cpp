#include "strategy/shared_engine.hpp"

#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "engine_fixture.hpp"

namespace {

using namespace ipm::strategy::test;
using ipm::pool::IpState;
using ipm::pool::Selector;
using ipm::strategy::DecisionKind;
using ipm::strategy::DecisionRecord;
using ipm::strategy::Engine;
using ipm::strategy::SharedEngine;

TEST(SharedEngineTest, publishes_a_snapshot_after_each_selection_change) {
  Selector selector(ipm::config::Selection::round_robin);
  SharedEngine shared(test_config(), selector, egresses(3), kBase);
  EXPECT_EQ(selector.snapshot()->ips.size(), 3U);
  const auto v1 = selector.snapshot()->version;
  for (int i = 0; i < 3; ++i)
    shared.apply(log_event("127.0.1.2", at_s(i), 403));
  const auto snap = selector.snapshot();
  EXPECT_GT(snap->version, v1);
  EXPECT_EQ(snap->ips[1].state, IpState::cooling);
  EXPECT_FALSE(snap->ips[1].selectable);
  for (int i = 0; i < 100; ++i)
    EXPECT_NE(selector.pick()->egress().ip, "127.0.1.2");
  // An event that changes nothing selection reads publishes nothing new.
  shared.apply(log_event("127.0.1.1", at_s(10), 200));
  EXPECT_EQ(selector.snapshot(), snap);
  shared.tick(at_s(602));
  EXPECT_EQ(selector.snapshot()->ips[1].state, IpState::probation);
}

TEST(SharedEngineTest, held_snapshots_wait_for_the_release_but_decisions_do_not) {
  Selector selector(ipm::config::Selection::round_robin);
  SharedEngine shared(test_config(), selector, egresses(3), kBase);
  std::vector<DecisionRecord> seen;
  shared.set_decision_sink([&seen](const DecisionRecord& d) { seen.push_back(d); });
  const auto before = selector.snapshot();
  shared.hold_snapshots();
  for (int i = 0; i < 3; ++i)
    shared.apply(log_event("127.0.1.2", at_s(i), 403));
  shared.tick(at_s(10));
  ASSERT_EQ(seen.size(), 1U);
  EXPECT_EQ(seen[0].kind, DecisionKind::eject);
  EXPECT_EQ(selector.snapshot(), before) << "nothing published while held";
  shared.release_snapshots();
  EXPECT_EQ(selector.snapshot()->ips[1].state, IpState::cooling);
  // Released: changes publish at once again.
  shared.tick(at_s(700));
  EXPECT_EQ(selector.snapshot()->ips[1].state, IpState::probation);
}

TEST(SharedEngineTest, releasing_without_a_change_publishes_nothing) {
  Selector selector(ipm::config::Selection::round_robin);
  SharedEngine shared(test_config(), selector, egresses(2), kBase);
  const auto before = selector.snapshot();
  shared.hold_snapshots();
  shared.apply(log_event("127.0.1.1", at_s(1), 200));
  shared.release_snapshots();
  EXPECT_EQ(selector.snapshot(), before);
}

TEST(SharedEngineTest, sink_sees_every_decision_once_in_order) {
  Selector selector(ipm::config::Selection::random);
  SharedEngine shared(test_config(), selector, egresses(2), kBase);
  std::vector<DecisionRecord> seen;
  shared.set_decision_sink([&seen](const DecisionRecord& d) { seen.push_back(d); });
  for (int i = 0; i < 3; ++i)
    shared.apply(log_event("127.0.1.1", at_s(i), 429));
  EXPECT_TRUE(shared.ban("127.0.1.2", at_s(100), "maintenance", at_s(5)));
  EXPECT_FALSE(shared.unban("10.0.0.1", at_s(6)));
  shared.tick(at_s(700));
  ASSERT_EQ(seen.size(), 6U);  // eject, ban, enter, 2 x probation, leave
  for (std::size_t i = 0; i < seen.size(); ++i)
    EXPECT_EQ(seen[i].seq, i + 1);
  EXPECT_EQ(seen[0].kind, DecisionKind::eject);
  EXPECT_EQ(seen[1].kind, DecisionKind::manual_ban);
  EXPECT_EQ(seen[2].kind, DecisionKind::all_unavailable_enter);
  const auto n = shared.read([](const Engine& e) { return e.count(IpState::probation); });
  EXPECT_EQ(n, 2U);
}

TEST(SharedEngineTest, selection_runs_while_the_engine_changes) {
  Selector selector(ipm::config::Selection::least_conn);
  auto cfg = test_config();
  cfg.consecutive_failure = 1;
  cfg.cool_down = std::chrono::seconds(2);
  SharedEngine shared(cfg, selector, egresses(16), kBase);
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> picks{0};
  std::atomic<std::uint64_t> bad{0};
  {
    std::vector<std::jthread> threads;
    for (int t = 0; t < 3; ++t) {
      threads.emplace_back([&] {
        while (!stop.load()) {
          auto p = selector.pick();
          if (!p)
            continue;
          const bool offered =
              p->state() == IpState::available || p->state() == IpState::probation || p->fallback();
          if (!offered)
            ++bad;
          ++picks;
        }
      });
    }
    threads.emplace_back([&] {
      for (int i = 0; i < 20000; ++i) {
        const std::string ip = "127.0.1." + std::to_string(i % 16 + 1);
        shared.apply(log_event(ip, at_s(i / 10), i % 3 == 0 ? 503 : 200));
        if (i % 50 == 0)
          shared.tick(at_s(i / 10));
        if (i % 5000 == 0)
          shared.reload(egresses(16 - (i / 5000)), at_s(i / 10));
      }
      stop = true;
    });
  }
  EXPECT_GT(picks.load(), 0U);
  EXPECT_EQ(bad.load(), 0U);
  for (const auto& e : selector.snapshot()->ips)
    EXPECT_EQ(e.active->value.load(), 0U);  // every Pick released its connection count
}

}  // namespace
