#include "strategy/engine.hpp"

#include <algorithm>
#include <map>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine_fixture.hpp"
#include "pool/selector.hpp"

// Pool-level behaviour: ejection cap, all-unavailable policies, reload, history, decisions.

namespace {

using namespace ipm::strategy::test;
using ipm::pool::IpState;
using ipm::strategy::DecisionKind;
using ipm::strategy::Engine;
using ::testing::HasSubstr;

void trip(Engine& e, std::string_view ip, long long t) {
  for (long long i = 0; i < 3; ++i)
    e.apply(log_event(ip, at_s(t + i), 403));
}

IpState state(const Engine& e, std::string_view ip) {
  return e.find(ip)->state;
}

int count_kind(const Engine& e, DecisionKind k) {
  auto all = e.decisions_after(0);
  return static_cast<int>(
      std::count_if(all.begin(), all.end(), [k](const auto& d) { return d.kind == k; }));
}

TEST(EnginePoolTest, ejection_cap_keeps_later_trips_in) {
  auto cfg = test_config();
  cfg.max_ejected_percent = 20;  // 2 of 10
  Engine e(cfg, egresses(10), kBase);
  trip(e, "127.0.1.1", 0);
  trip(e, "127.0.1.2", 10);
  trip(e, "127.0.1.3", 590);  // at 592 s both are still out
  EXPECT_EQ(state(e, "127.0.1.1"), IpState::cooling);
  EXPECT_EQ(state(e, "127.0.1.2"), IpState::cooling);
  EXPECT_EQ(state(e, "127.0.1.3"), IpState::available);
  e.apply(log_event("127.0.1.3", at_s(595), 403));  // still capped: one record per streak
  EXPECT_EQ(count_kind(e, DecisionKind::eject_capped), 1);
  EXPECT_EQ(e.counters().ejections_capped, 2U);
  EXPECT_THAT(e.find("127.0.1.3")->last_reason, HasSubstr("max_ejected_percent 20"));
  // The first cooldown ends at 602 s: there is room, the next failure ejects.
  e.apply(log_event("127.0.1.3", at_s(603), 403));
  EXPECT_EQ(state(e, "127.0.1.3"), IpState::cooling);
  EXPECT_EQ(e.counters().ejections_failures, 3U);
}

TEST(EnginePoolTest, ejection_cap_is_judged_on_event_time_not_on_ticks) {
  auto cfg = test_config();
  cfg.max_ejected_percent = 20;
  Engine e(cfg, egresses(10), kBase);
  trip(e, "127.0.1.1", 0);
  trip(e, "127.0.1.2", 0);
  e.tick(at_s(700));  // both released, stamped at 602 s
  EXPECT_EQ(state(e, "127.0.1.1"), IpState::probation);
  trip(e, "127.0.1.3", 300);  // lines read late: at 302 s two IPs were out
  EXPECT_EQ(state(e, "127.0.1.3"), IpState::available);
  trip(e, "127.0.1.4", 650);
  EXPECT_EQ(state(e, "127.0.1.4"), IpState::cooling);
}

TEST(EnginePoolTest, zero_max_ejected_percent_never_ejects) {
  auto cfg = test_config();
  cfg.max_ejected_percent = 0;
  Engine e(cfg, egresses(3), kBase);
  trip(e, "127.0.1.1", 0);
  EXPECT_EQ(state(e, "127.0.1.1"), IpState::available);
}

TEST(EnginePoolTest, a_small_pool_may_always_eject_one) {
  auto cfg = test_config();
  cfg.max_ejected_percent = 10;  // 10% of 2 rounds down to 0: still one may go
  Engine e(cfg, egresses(2), kBase);
  trip(e, "127.0.1.1", 0);
  trip(e, "127.0.1.2", 0);
  EXPECT_EQ(state(e, "127.0.1.1"), IpState::cooling);
  EXPECT_EQ(state(e, "127.0.1.2"), IpState::available);
}

TEST(EnginePoolTest, all_unavailable_least_bad_offers_the_smallest_backoff) {
  Engine e(test_config(), egresses(2), kBase);
  trip(e, "127.0.1.1", 0);
  EXPECT_FALSE(e.all_unavailable());
  trip(e, "127.0.1.2", 0);
  EXPECT_TRUE(e.all_unavailable());
  EXPECT_EQ(count_kind(e, DecisionKind::all_unavailable_enter), 1);
  auto s = e.snapshot();
  EXPECT_TRUE(s.all_unavailable);
  EXPECT_TRUE(s.least_bad_fallback);
  EXPECT_TRUE(s.ips[0].selectable && s.ips[1].selectable);

  // 127.0.1.1 fails its probation (backoff x2): only 127.0.1.2 is least bad.
  e.apply(log_event("127.0.1.1", at_s(700), 200));  // recovers at 700 (lazy release)
  EXPECT_EQ(count_kind(e, DecisionKind::all_unavailable_leave), 1);
  trip(e, "127.0.1.1", 710);
  e.tick(at_s(720));
  EXPECT_EQ(state(e, "127.0.1.2"), IpState::probation);  // released at 602 by the tick
  EXPECT_FALSE(e.all_unavailable());
  e.apply(log_event("127.0.1.2", at_s(730), 503));  // probation failed: x2
  EXPECT_TRUE(e.all_unavailable());
  s = e.snapshot();
  EXPECT_TRUE(s.ips[0].selectable);   // x1, tripped from available
  EXPECT_FALSE(s.ips[1].selectable);  // x2
  EXPECT_EQ(count_kind(e, DecisionKind::all_unavailable_enter), 2);
  EXPECT_EQ(e.counters().all_unavailable_transitions, 3U);
}

TEST(EnginePoolTest, all_unavailable_refuse_offers_nothing) {
  auto cfg = test_config();
  cfg.all_unavailable = ipm::config::AllUnavailable::refuse;
  Engine e(cfg, egresses(2), kBase);
  trip(e, "127.0.1.1", 0);
  trip(e, "127.0.1.2", 0);
  ipm::pool::Selector selector(ipm::config::Selection::random);
  selector.publish(e.snapshot());
  EXPECT_TRUE(selector.snapshot()->all_unavailable);
  EXPECT_FALSE(selector.snapshot()->least_bad_fallback);
  EXPECT_FALSE(selector.pick().has_value());
  EXPECT_THAT(e.latest_decisions(1).at(0).reason, HasSubstr("refuse"));
}

TEST(EnginePoolTest, manually_banned_ips_are_never_the_fallback) {
  Engine e(test_config(), egresses(2), kBase);
  ASSERT_TRUE(e.ban("127.0.1.1", ipm::pool::TimePoint::max(), "abuse report", at_s(0)));
  trip(e, "127.0.1.2", 0);
  const auto s = e.snapshot();
  EXPECT_FALSE(s.ips[0].selectable);
  EXPECT_TRUE(s.ips[1].selectable);
  EXPECT_EQ(s.count(IpState::banned), 1U);
  EXPECT_EQ(s.count(IpState::cooling), 1U);
}

TEST(EnginePoolTest, a_disabled_ip_takes_no_new_connections_until_enabled_and_keeps_its_health) {
  Engine e(test_config(), egresses(2), kBase);
  ASSERT_TRUE(e.set_disabled("127.0.1.1", true, at_s(0)));
  auto s = e.snapshot();
  EXPECT_FALSE(s.ips[0].selectable);
  EXPECT_TRUE(s.ips[1].selectable);
  EXPECT_EQ(state(e, "127.0.1.1"), IpState::available) << "its state machine goes on";
  // Its health is still kept: a trip while disabled cools it.
  trip(e, "127.0.1.1", 1);
  EXPECT_EQ(state(e, "127.0.1.1"), IpState::cooling);
  // Kept across a reload, and never the all-unavailable fallback.
  e.reload(egresses(2), at_s(10));
  EXPECT_TRUE(e.find("127.0.1.1")->disabled);
  trip(e, "127.0.1.2", 20);
  s = e.snapshot();
  EXPECT_FALSE(s.ips[0].selectable) << "a disabled IP is not the least bad";
  ASSERT_TRUE(e.set_disabled("127.0.1.1", false, at_s(30)));
  EXPECT_FALSE(e.find("127.0.1.1")->disabled);
  EXPECT_EQ(count_kind(e, DecisionKind::manual_disable), 1);
  EXPECT_EQ(count_kind(e, DecisionKind::manual_enable), 1);
  EXPECT_FALSE(e.set_disabled("10.9.9.9", true, at_s(31)));
}

TEST(EnginePoolTest, an_enabled_available_ip_is_selectable_again) {
  Engine e(test_config(), egresses(2), kBase);
  ASSERT_TRUE(e.set_disabled("127.0.1.2", true, at_s(0)));
  EXPECT_FALSE(e.snapshot().ips[1].selectable);
  ASSERT_TRUE(e.set_disabled("127.0.1.2", false, at_s(1)));
  EXPECT_TRUE(e.snapshot().ips[1].selectable);
}

TEST(EnginePoolTest, manual_commands_on_unknown_ips_fail_cleanly) {
  Engine e(test_config(), egresses(2), kBase);
  EXPECT_FALSE(e.ban("10.9.9.9", at_s(10), "x", at_s(0)));
  EXPECT_FALSE(e.unban("", at_s(0)));
  EXPECT_FALSE(e.reset("not an ip", at_s(0)));
  e.apply(log_event("10.9.9.9", at_s(0), 200));
  e.apply(dial("10.9.9.9", at_s(0), ipm::pool::DialResult::refused));
  EXPECT_EQ(e.counters().unknown_ip_events, 2U);
  EXPECT_EQ(e.last_decision_seq(), 0U);
}

TEST(EnginePoolTest, reload_keeps_staying_ips_adds_new_and_drops_removed) {
  Engine e(test_config(), egresses(3), kBase);
  trip(e, "127.0.1.2", 0);
  e.apply(log_event("127.0.1.1", at_s(5), 200));
  const auto v = e.selection_version();

  auto next = egresses(3);
  next.erase(next.begin() + 2);  // 127.0.1.3 goes
  next[0].weight = 5;
  next.push_back({.ip = "127.0.1.9", .port = 19009, .server_name = "new", .weight = 1});
  next.push_back(next[0]);  // duplicate: ignored
  EXPECT_EQ(e.reload(next, at_s(100)), 1U);

  ASSERT_EQ(e.ips().size(), 3U);
  EXPECT_EQ(e.find("127.0.1.3"), nullptr);
  EXPECT_EQ(e.find("127.0.1.1")->egress.weight, 5U);
  EXPECT_EQ(e.find("127.0.1.1")->history.size(), 1U);
  EXPECT_EQ(state(e, "127.0.1.2"), IpState::cooling);
  EXPECT_EQ(e.find("127.0.1.2")->history.size(), 3U);
  EXPECT_EQ(state(e, "127.0.1.9"), IpState::available);
  EXPECT_GT(e.selection_version(), v);
  EXPECT_EQ(count_kind(e, DecisionKind::ip_added), 1);
  EXPECT_EQ(count_kind(e, DecisionKind::ip_removed), 1);
  EXPECT_EQ(e.count(IpState::cooling), 1U);
  EXPECT_EQ(e.count(IpState::available), 2U);
  const auto s = e.snapshot();
  EXPECT_EQ(s.find("127.0.1.3"), -1);
  EXPECT_EQ(s.ips[0].egress.weight, 5U);
  // Events for the removed IP are now unknown.
  e.apply(log_event("127.0.1.3", at_s(101), 200));
  EXPECT_EQ(e.counters().unknown_ip_events, 1U);
}

TEST(EnginePoolTest, events_find_their_ip_by_its_whole_text_short_or_long) {
  // A record keeps short IP texts inline for the lookup and compares long ones (past 23
  // characters: long IPv6 forms) through its egress; two long ones share their first 32.
  std::vector<ipm::pool::Egress> pool = egresses(1);
  for (const char* ip :
       {"2001:db8:aaaa:bbbb:cccc:dddd:eeee:1", "2001:db8:aaaa:bbbb:cccc:dddd:eeee:2"})
    pool.push_back({.ip = ip, .port = 19100, .server_name = {}, .weight = 1});
  Engine e(test_config(), pool, kBase);
  e.apply(log_event("127.0.1.1", at_s(1), 200));
  e.apply(log_event("2001:db8:aaaa:bbbb:cccc:dddd:eeee:2", at_s(2), 200));
  e.apply(log_event("2001:db8:aaaa:bbbb:cccc:dddd:eeee:2", at_s(3), 200));
  e.apply(log_event("2001:db8:aaaa:bbbb:cccc:dddd:eeee:3", at_s(4), 200));
  e.apply(log_event("127.0.1.1 ", at_s(5), 200));
  ASSERT_NE(e.find("2001:db8:aaaa:bbbb:cccc:dddd:eeee:1"), nullptr);
  EXPECT_EQ(e.find("127.0.1.1")->counters.events, 1U);
  EXPECT_EQ(e.find("2001:db8:aaaa:bbbb:cccc:dddd:eeee:1")->counters.events, 0U);
  EXPECT_EQ(e.find("2001:db8:aaaa:bbbb:cccc:dddd:eeee:2")->counters.events, 2U);
  EXPECT_EQ(e.find("2001:db8:aaaa:bbbb:cccc:dddd:eeee:2")->ip(),
            "2001:db8:aaaa:bbbb:cccc:dddd:eeee:2");
  EXPECT_EQ(e.counters().unknown_ip_events, 2U);
}

TEST(EnginePoolTest, reconfigure_applies_to_what_happens_next) {
  Engine e(test_config(), egresses(3), kBase);
  trip(e, "127.0.1.1", 0);  // ejected at 2 s for 10 min
  const auto cooling_until = e.find("127.0.1.1")->cooldown_until;
  e.apply(log_event("127.0.1.2", at_s(10), 403));
  const auto version = e.selection_version();

  auto next = test_config();
  next.consecutive_failure = 1;
  next.cool_down = 1min;
  next.max_history_log_each_ip = 5;  // sizes what is allocated: kept until restart
  next.decisions_kept = 1;
  e.reconfigure(next);
  EXPECT_GT(e.selection_version(), version) << "snapshot keys may have changed";
  EXPECT_EQ(e.config().consecutive_failure, 1U);
  EXPECT_EQ(e.config().max_history_log_each_ip, 1000U);
  EXPECT_EQ(e.config().decisions_kept, 100000U);

  EXPECT_EQ(e.find("127.0.1.1")->cooldown_until, cooling_until) << "a cooling IP keeps its end";
  e.apply(log_event("127.0.1.3", at_s(20), 403));  // one failure now ejects, for 1 min
  EXPECT_EQ(state(e, "127.0.1.3"), IpState::cooling);
  EXPECT_EQ(e.find("127.0.1.3")->cooldown_until, at_s(80));
}

TEST(EnginePoolTest, reload_to_an_empty_pool_is_all_unavailable) {
  Engine e(test_config(), egresses(2), kBase);
  e.reload({}, at_s(1));
  EXPECT_TRUE(e.all_unavailable());
  EXPECT_TRUE(e.snapshot().ips.empty());
}

TEST(EnginePoolTest, history_interns_keys_and_is_bounded) {
  auto cfg = test_config();
  cfg.max_history_log_each_ip = 4;
  cfg.max_cool_down_log_each_ip = 2;
  Engine e(cfg, egresses(1), kBase);
  for (int i = 0; i < 10; ++i) {
    e.apply(log_event("127.0.1.1", at_s(i), 200, 200, i % 2 ? "odd" : "even", "t.example"));
  }
  const auto& r = *e.find("127.0.1.1");
  ASSERT_EQ(r.history.size(), 4U);
  EXPECT_EQ(r.history.pushed(), 10U);
  EXPECT_EQ(r.history.newest().time(), at_s(9));
  EXPECT_EQ(e.key(r.history.newest().key), "odd");
  EXPECT_EQ(e.target(r.history[0].target), "t.example");
  EXPECT_EQ(e.keys().size(), 4U);  // "", "(other)", "even", "odd"
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(e.ban("127.0.1.1", at_s(100 + i), "x", at_s(20 + i)));
  ASSERT_EQ(r.cooldowns.size(), 2U);
  EXPECT_EQ(r.cooldowns.newest().end, at_s(102));
  EXPECT_EQ(r.cooldowns.newest().reason, ipm::pool::CooldownReason::manual);
}

// The tally /metrics reads must match the history it summarises, through cooling (events
// go to history only), bans, a full ring, a reload that keeps the IP, and a reconfigure that
// adds or removes the target label (targets are tallied only while the label is asked for).
TEST(EnginePoolTest, history_tally_matches_the_history_through_eviction_and_reload) {
  const auto matches = [](const Engine& e, bool by_target) {
    for (const auto& r : e.ips()) {
      std::map<std::pair<std::uint16_t, std::uint32_t>, std::uint32_t> walked, tallied;
      r.history.for_each([&](const ipm::pool::HistoryEntry& h) {
        ++walked[{h.status, by_target ? h.target : ipm::pool::Interner::kEmpty}];
      });
      r.history_tally.for_each([&](std::uint16_t status, std::uint32_t target, std::uint32_t n) {
        tallied[{status, target}] = n;
      });
      EXPECT_EQ(r.history.size(), 50U);
      EXPECT_EQ(tallied, walked) << r.egress.ip << (by_target ? " by target" : " by status");
    }
  };
  for (const bool target_label : {false, true}) {
    auto cfg = test_config();
    cfg.max_history_log_each_ip = 50;
    cfg.metrics_history_labels.target = target_label;
    Engine e(cfg, egresses(3), kBase);
    const char* statuses[] = {"200", "404", "429", "503"};
    for (int i = 0; i < 400; ++i) {
      const std::string ip = "127.0.1." + std::to_string(1 + i % 3);
      const int status = std::stoi(statuses[(i * 7) % 4]);
      e.apply(log_event(ip, at_s(i), status, 0, "k", "t" + std::to_string(i % 5) + ".example"));
      if (i == 200) {
        ASSERT_TRUE(e.ban("127.0.1.3", at_s(1000), "x", at_s(i)));
      }
    }
    e.reload(egresses(2), at_s(500));
    matches(e, target_label);
    cfg.metrics_history_labels.target = !target_label;
    e.reconfigure(cfg);
    matches(e, !target_label);
  }
}

TEST(EnginePoolTest, jitter_is_deterministic_and_bounded) {
  auto cfg = test_config();
  cfg.cool_down_jitter = 0.2;
  Engine a(cfg, egresses(50), kBase);
  Engine b(cfg, egresses(50), kBase);
  std::vector<ipm::pool::TimePoint> untils;
  for (int i = 1; i <= 50; ++i) {
    const std::string ip = "127.0.1." + std::to_string(i);
    trip(a, ip, i);
    trip(b, ip, i);
    const auto ua = a.find(ip)->cooldown_until;
    EXPECT_EQ(ua, b.find(ip)->cooldown_until);
    const auto cooldown = ua - at_s(i + 2);
    EXPECT_GE(cooldown, std::chrono::seconds(480));
    EXPECT_LE(cooldown, std::chrono::seconds(720));
    untils.push_back(ua - std::chrono::seconds(i));
  }
  std::sort(untils.begin(), untils.end());
  EXPECT_GT(std::unique(untils.begin(), untils.end()) - untils.begin(), 40);  // spread out
}

TEST(EnginePoolTest, decisions_carry_reason_and_cause_and_are_bounded) {
  auto cfg = test_config();
  cfg.decisions_kept = 3;
  Engine e(cfg, egresses(4), kBase);
  e.apply(log_event("127.0.1.1", at_s(0), 403));
  e.apply(log_event("127.0.1.1", at_s(1), 403));
  e.apply(log_event("127.0.1.1", at_s(2), 200, 429, "k1", "-"));  // no target: the IP's own
  const auto eject = e.latest_decisions(1).at(0);
  EXPECT_EQ(eject.kind, DecisionKind::eject);
  EXPECT_EQ(eject.ip, "127.0.1.1");
  EXPECT_EQ(eject.from, IpState::available);
  EXPECT_EQ(eject.to, IpState::cooling);
  EXPECT_EQ(eject.cause.kind, ipm::strategy::CauseKind::log_event);
  EXPECT_EQ(eject.cause.upstream_status, 429);
  EXPECT_EQ(eject.until, at_s(602));
  EXPECT_THAT(eject.reason, HasSubstr("3 consecutive failures within 5m"));
  EXPECT_THAT(eject.reason, HasSubstr("upstream 429"));
  for (int i = 2; i <= 4; ++i)
    trip(e, "127.0.1." + std::to_string(i), 10);
  EXPECT_EQ(e.latest_decisions(100).size(), 3U);
  EXPECT_EQ(e.last_decision_seq(), 5U);  // 4 ejections + all_unavailable_enter
  EXPECT_EQ(e.decisions_after(4).size(), 1U);
  EXPECT_EQ(e.decisions_after(0).front().seq, 3U);
}

}  // namespace

namespace {

// probation_share reaches selection: the engine writes it into the snapshot it publishes,
// and a reconfigure (SIGHUP) changes it for the next snapshot.
TEST(EnginePoolTest, a_probation_ip_gets_probation_share_of_the_picks) {
  auto cfg = test_config();
  cfg.probation_share = 0.25;
  Engine e(cfg, egresses(3), kBase);
  trip(e, "127.0.1.1", 0);
  e.tick(at_s(700));
  ASSERT_EQ(state(e, "127.0.1.1"), IpState::probation);

  // Picks per IP over whole rounds of the schedule (round robin follows it exactly).
  const auto picks = [&] {
    ipm::pool::Selector selector(ipm::config::Selection::round_robin);
    selector.publish(e.snapshot());
    std::map<std::string, int> n;
    for (int i = 0; i < 900; ++i)
      ++n[selector.pick()->egress().ip];
    return n;
  };
  auto n = picks();
  EXPECT_EQ(n["127.0.1.2"], n["127.0.1.3"]);
  EXPECT_EQ(n["127.0.1.1"] * 4, n["127.0.1.2"]) << "a quarter of a healthy IP's picks";

  cfg.probation_share = 0.5;
  e.reconfigure(cfg);
  n = picks();
  EXPECT_EQ(n["127.0.1.1"] * 2, n["127.0.1.2"]) << "half, after the reconfigure";
}

}  // namespace
