#include "strategy/engine.hpp"

#include <functional>
#include <limits>

#include <gtest/gtest.h>

#include "engine_fixture.hpp"

// Every transition of one IP's state machine, table-driven on a fake clock: each step is an
// input at "base + t seconds" and the state expected right after it.

namespace {

using namespace ipm::strategy::test;
using ipm::pool::DialResult;
using ipm::pool::IpState;
using ipm::strategy::Engine;

constexpr std::string_view kIp = "127.0.1.1";
constexpr long long kNoCheck = -1;
constexpr long long kForever = std::numeric_limits<long long>::max();

enum class Do { log, dial, tick, ban, unban, reset };

struct Step {
  Do what;
  long long t;
  int status = 0;    // log: $status
  int upstream = 0;  // log: $upstream_status
  DialResult dial = DialResult::ok;
  long long ban_until = kForever;  // ban: seconds, or kForever
  IpState expect = IpState::available;
  int failures = kNoCheck;     // consecutive failures after the step
  long long until = kNoCheck;  // cooldown end (cooling), seconds
  double multiplier = 0;       // backoff multiplier, 0: no check
};

Step log(long long t, int status, IpState expect, int failures = kNoCheck,
         long long until = kNoCheck, double multiplier = 0) {
  return {.what = Do::log,
          .t = t,
          .status = status,
          .expect = expect,
          .failures = failures,
          .until = until,
          .multiplier = multiplier};
}
Step log_up(long long t, int status, int upstream, IpState expect, int failures) {
  return {.what = Do::log,
          .t = t,
          .status = status,
          .upstream = upstream,
          .expect = expect,
          .failures = failures};
}
Step dial(long long t, DialResult r, IpState expect, int failures = kNoCheck,
          long long until = kNoCheck) {
  return {
      .what = Do::dial, .t = t, .dial = r, .expect = expect, .failures = failures, .until = until};
}
Step tick(long long t, IpState expect, double multiplier = 0) {
  return {.what = Do::tick, .t = t, .expect = expect, .multiplier = multiplier};
}
Step ban(long long t, long long until) {
  return {.what = Do::ban, .t = t, .ban_until = until, .expect = IpState::banned};
}
Step unban(long long t, double multiplier) {
  return {.what = Do::unban,
          .t = t,
          .expect = IpState::available,
          .failures = 0,
          .multiplier = multiplier};
}
Step reset(long long t) {
  return {
      .what = Do::reset, .t = t, .expect = IpState::available, .failures = 0, .multiplier = 1.0};
}

// Three failures at 0, 1, 2 s: cooling until 602 s (cool_down 10m, no jitter).
std::vector<Step> trip_at_0() {
  return {log(0, 403, IpState::available, 1), log(1, 403, IpState::available, 2),
          log(2, 403, IpState::cooling, 0, 602, 1.0)};
}

std::vector<Step> operator+(std::vector<Step> a, const std::vector<Step>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

struct Case {
  std::string name;
  std::vector<Step> steps;
  std::function<void(ipm::config::Config&)> tweak = {};
};

class EngineTransitionTest : public ::testing::TestWithParam<Case> {};

TEST_P(EngineTransitionTest, follows_the_state_machine) {
  const Case& c = GetParam();
  auto cfg = test_config();
  if (c.tweak)
    c.tweak(cfg);
  Engine engine(cfg, egresses(10), kBase);
  for (std::size_t i = 0; i < c.steps.size(); ++i) {
    const Step& s = c.steps[i];
    SCOPED_TRACE("step " + std::to_string(i) + " at t=" + std::to_string(s.t) + "s");
    switch (s.what) {
      case Do::log:
        // No target: the IP's own machine judges every line (per-site health has its own
        // tests in engine_sites_test.cpp).
        engine.apply(log_event(kIp, at_s(s.t), s.status, s.upstream, "k1", "-"));
        break;
      case Do::dial:
        engine.apply(ipm::strategy::test::dial(kIp, at_s(s.t), s.dial));
        break;
      case Do::tick:
        engine.tick(at_s(s.t));
        break;
      case Do::ban:
        ASSERT_TRUE(engine.ban(
            kIp, s.ban_until == kForever ? ipm::pool::TimePoint::max() : at_s(s.ban_until), "test",
            at_s(s.t)));
        break;
      case Do::unban:
        ASSERT_TRUE(engine.unban(kIp, at_s(s.t)));
        break;
      case Do::reset:
        ASSERT_TRUE(engine.reset(kIp, at_s(s.t)));
        break;
    }
    const auto* r = engine.find(kIp);
    ASSERT_NE(r, nullptr);
    EXPECT_EQ(to_string(r->state), to_string(s.expect));
    if (s.failures != kNoCheck) {
      EXPECT_EQ(r->consecutive_failures(), static_cast<std::uint32_t>(s.failures));
    }
    if (s.until != kNoCheck) {
      EXPECT_EQ(r->cooldown_until, at_s(s.until));
    }
    if (s.multiplier != 0) {
      EXPECT_DOUBLE_EQ(r->backoff_multiplier, s.multiplier);
    }
  }
}

const Case kCases[] = {
    {"go_tool_consecutive_failures_eject", trip_at_0()},
    {"go_tool_one_failure_ejects_when_configured_so",
     {log(0, 500, IpState::cooling, 0, 600)},
     [](auto& c) { c.consecutive_failure = 1; }},
    {"success_resets_the_count",
     {log(0, 403, IpState::available, 1), log(10, 403, IpState::available, 2),
      log(20, 200, IpState::available, 0), log(30, 403, IpState::available, 1),
      log(40, 502, IpState::available, 2), log(50, 302, IpState::available, 0)}},
    {"failures_outside_the_window_do_not_add_up",
     {log(0, 403, IpState::available, 1), log(200, 403, IpState::available, 2),
      log(400, 403, IpState::available, 2),  // the one at 0 s left the 5m window
      log(450, 403, IpState::cooling, 0, 1050)}},
    {"neutral_statuses_neither_count_nor_reset",
     {log(0, 403, IpState::available, 1), log(1, 404, IpState::available, 1),
      log(2, 403, IpState::available, 2), log_up(3, 499, 502, IpState::available, 2),
      log(4, 400, IpState::available, 2), log(5, 0, IpState::available, 2),
      log(6, 429, IpState::cooling, 0, 606)}},
    {"upstream_status_judges_when_nginx_got_one",
     {log_up(0, 502, 0, IpState::available, 1),    // nginx's own 502: connect failed
      log_up(1, 200, 429, IpState::available, 2),  // the target's answer counts
      log_up(2, 503, 200, IpState::available, 0)}},
    {"dial_failures_count_and_ok_dials_are_neutral",
     {dial(0, DialResult::refused, IpState::available, 1),
      dial(1, DialResult::ok, IpState::available, 1),
      dial(2, DialResult::timeout, IpState::available, 2),
      dial(3, DialResult::unreachable, IpState::cooling, 0, 603)}},
    {"released_ip_with_no_traffic_is_not_ejected_again",  // the Go tool re-bans it
     trip_at_0() + std::vector<Step>{tick(601, IpState::cooling), tick(602, IpState::probation),
                                     tick(900, IpState::probation),
                                     tick(100000, IpState::probation)}},
    {"probation_success_recovers",
     trip_at_0() + std::vector<Step>{tick(602, IpState::probation),
                                     log(700, 404, IpState::probation, 0),
                                     log(701, 200, IpState::available, 0, kNoCheck, 1.0)}},
    {"probation_failure_doubles_the_cooldown",
     trip_at_0() + std::vector<Step>{tick(602, IpState::probation),
                                     log(700, 403, IpState::cooling, 0, 1900, 2.0)}},
    {"backoff_grows_and_is_capped_by_max_cool_down",
     trip_at_0() +
         std::vector<Step>{
             tick(602, IpState::probation), log(610, 403, IpState::cooling, 0, 1810, 2.0),
             tick(1810, IpState::probation), log(1820, 403, IpState::cooling, 0, 3620, 3.0),
             tick(3620, IpState::probation), log(3630, 403, IpState::cooling, 0, 5430, 3.0)},
     [](auto& c) { c.max_cool_down = std::chrono::minutes(30); }},
    {"backoff_decays_after_a_healthy_stretch",
     trip_at_0() +
         std::vector<Step>{
             tick(602, IpState::probation), log(610, 403, IpState::cooling, 0, 1810, 2.0),
             tick(1810, IpState::probation), log(1820, 200, IpState::available, 0, kNoCheck, 2.0),
             log(3619, 200, IpState::available, 0, kNoCheck, 2.0),
             log(3620, 200, IpState::available, 0, kNoCheck, 1.0),
             log(3700, 403, IpState::available, 1), log(3701, 403, IpState::available, 2),
             log(3702, 403, IpState::cooling, 0, 4302, 1.0)}},
    {"events_while_cooling_go_to_history_only",
     trip_at_0() + std::vector<Step>{log(100, 200, IpState::cooling),
                                     log(200, 403, IpState::cooling),
                                     dial(300, DialResult::refused, IpState::cooling),
                                     tick(602, IpState::probation)}},
    {"a_line_older_than_the_last_transition_is_late",
     trip_at_0() + std::vector<Step>{tick(700, IpState::probation),  // stamped at 602 s
                                     log(601, 200, IpState::probation),
                                     log(601, 403, IpState::probation),
                                     log(602, 200, IpState::available)}},
    {"cooldown_ends_lazily_on_the_next_event_without_a_tick",
     trip_at_0() + std::vector<Step>{log(700, 200, IpState::available, 0)}},
    {"manual_ban_until_expiry_then_probation",
     {ban(0, 100), log(50, 200, IpState::banned), tick(99, IpState::banned),
      tick(100, IpState::probation), log(110, 200, IpState::available)}},
    {"manual_ban_forever_until_unbanned",
     {ban(0, kForever), tick(10'000'000, IpState::banned), unban(10'000'001, 1.0)}},
    {"unban_keeps_backoff_and_reset_forgets_it",
     trip_at_0() + std::vector<Step>{tick(602, IpState::probation),
                                     log(700, 403, IpState::cooling, 0, 1900, 2.0), unban(800, 2.0),
                                     log(810, 403, IpState::available, 1), reset(900)}},
    {"ban_during_cooling_then_unban",
     trip_at_0() + std::vector<Step>{ban(10, 20), tick(20, IpState::probation),
                                     log(30, 200, IpState::available)}},
};

INSTANTIATE_TEST_SUITE_P(Table, EngineTransitionTest, ::testing::ValuesIn(kCases),
                         [](const auto& param_info) { return param_info.param.name; });

}  // namespace
