#include "strategy/engine.hpp"

#include <algorithm>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine_fixture.hpp"

// Health per target site on a fake clock: a site's failures judge the (IP, site) pair only,
// the egress's own failures and failures on many sites eject the IP for every site, the
// per-site ejection cap, the max_sites_per_ip eviction, manual commands naming a site.

namespace {

using namespace ipm::strategy::test;
using ipm::pool::IpState;
using ipm::strategy::DecisionKind;
using ipm::strategy::Engine;
using ipm::strategy::SiteCommand;
using ipm::strategy::SiteRecord;
using ::testing::HasSubstr;

constexpr std::string_view kIp = "127.0.1.1";

// A 403 the target answered (the upstream status is there): the site's failure.
ipm::pool::LogEvent site_fail(std::string_view ip, long long t, std::string_view target) {
  return log_event(ip, at_s(t), 403, 403, "k1", target);
}
ipm::pool::LogEvent site_ok(std::string_view ip, long long t, std::string_view target) {
  return log_event(ip, at_s(t), 200, 200, "k1", target);
}

const SiteRecord* site_of(const Engine& e, std::string_view ip, std::string_view site) {
  const auto* r = e.find(ip);
  for (const auto& s : r->sites) {
    if (e.site(s.site) == site)
      return &s;
  }
  return nullptr;
}

IpState site_state(const Engine& e, std::string_view ip, std::string_view site) {
  const SiteRecord* s = site_of(e, ip, site);
  return s == nullptr ? IpState::available : s->state;
}

float share_for(const Engine& e, std::string_view ip, std::string_view site) {
  const auto snap = e.snapshot();
  const auto* rules = snap.rules_for(site);
  if (rules == nullptr)
    return 1.0F;
  return rules->share_of(static_cast<std::uint32_t>(snap.find(ip)));
}

TEST(EngineSitesTest, a_success_for_another_site_does_not_reset_a_sites_streak) {
  Engine e(test_config(), egresses(3), kBase);
  // a.example fails, b.example succeeds, alternating: the old engine never tripped.
  for (long long t = 0; t < 3; ++t) {
    e.apply(site_fail(kIp, t * 2, "www.a.example"));
    e.apply(site_ok(kIp, t * 2 + 1, "b.example"));
  }
  EXPECT_EQ(site_state(e, kIp, "a.example"), IpState::cooling);
  EXPECT_EQ(e.find(kIp)->state, IpState::available) << "the IP still serves every other site";
  EXPECT_EQ(share_for(e, kIp, "a.example"), 0.0F);
  EXPECT_EQ(share_for(e, kIp, "b.example"), 1.0F);
  EXPECT_EQ(e.snapshot().rules_for("b.example"), nullptr) << "no rules for a healthy site";
  const auto d = decisions_of(e, kIp);
  ASSERT_FALSE(d.empty());
  EXPECT_EQ(d.back().kind, DecisionKind::eject);
  EXPECT_EQ(d.back().site, "a.example");
  EXPECT_THAT(d.back().reason, HasSubstr("3 consecutive failures"));
  EXPECT_EQ(e.counters().site_ejections, 1U);
  EXPECT_EQ(e.counters().ejections_failures, 0U);
}

// An upstream's refusal of a destination (issue 20 in dispatch mode): the site's failure.
ipm::pool::DialOutcome refusal(std::string_view id, long long t, int socks5_code,
                               std::string_view target) {
  ipm::pool::DialOutcome d = dial(id, at_s(t), ipm::pool::DialResult::upstream_refused);
  d.kind = ipm::pool::EgressKind::upstream;
  d.protocol = ipm::config::UpstreamProtocol::socks5;
  d.upstream_code = socks5_code;
  d.target = target;
  return d;
}

TEST(EngineSitesTest, an_upstreams_refusal_of_a_destination_is_that_sites_failure_only) {
  Engine e(test_config(), egresses(3), kBase);
  // SOCKS5 "not allowed" for a.example three times, successes for b.example between them.
  for (long long t = 0; t < 3; ++t) {
    e.apply(refusal(kIp, t * 2, 0x02, "www.a.example"));
    ipm::pool::DialOutcome ok = dial(kIp, at_s(t * 2 + 1), ipm::pool::DialResult::ok);
    ok.kind = ipm::pool::EgressKind::upstream;
    ok.target = "b.example";
    e.apply(ok);
  }
  EXPECT_EQ(site_state(e, kIp, "a.example"), IpState::cooling);
  EXPECT_EQ(e.find(kIp)->state, IpState::available) << "the egress still serves b.example";
  EXPECT_EQ(share_for(e, kIp, "a.example"), 0.0F);
  EXPECT_EQ(e.find(kIp)->counters.dial_failures, 0U);
  EXPECT_EQ(e.counters().site_failures, 3U);
  const auto d = decisions_of(e, kIp);
  ASSERT_FALSE(d.empty());
  EXPECT_EQ(d.back().site, "a.example");
  EXPECT_THAT(d.back().reason, HasSubstr("dial upstream_refused 2"));

  // The same refusal without a destination host: no site to charge, nothing against the egress.
  for (long long t = 10; t < 20; ++t)
    e.apply(refusal("127.0.1.2", t, 0x05, ""));
  EXPECT_EQ(e.find("127.0.1.2")->state, IpState::available);
  EXPECT_TRUE(e.find("127.0.1.2")->sites.empty());
  // The upstream's general failure is the egress's, whatever the destination.
  for (long long t = 20; t < 23; ++t)
    e.apply(refusal("127.0.1.3", t, 0x01, "a.example"));
  EXPECT_EQ(e.find("127.0.1.3")->state, IpState::cooling);
  EXPECT_TRUE(e.find("127.0.1.3")->sites.empty());
}

TEST(EngineSitesTest, a_dial_that_reaches_the_site_resets_its_streak) {
  Engine e(test_config(), egresses(3), kBase);
  e.apply(refusal(kIp, 0, 0x05, "a.example"));
  e.apply(refusal(kIp, 1, 0x05, "a.example"));
  ipm::pool::DialOutcome ok = dial(kIp, at_s(2), ipm::pool::DialResult::ok);
  ok.kind = ipm::pool::EgressKind::upstream;
  ok.target = "a.example";
  e.apply(ok);
  e.apply(refusal(kIp, 3, 0x05, "a.example"));
  EXPECT_EQ(site_state(e, kIp, "a.example"), IpState::available)
      << "the success between broke the streak";
}

TEST(EngineSitesTest, a_site_goes_through_cooldown_probation_and_recovery_on_its_own) {
  Engine e(test_config(), egresses(3), kBase);
  for (long long t = 0; t < 3; ++t)
    e.apply(site_fail(kIp, t, "a.example"));
  ASSERT_EQ(site_state(e, kIp, "a.example"), IpState::cooling);
  EXPECT_EQ(site_of(e, kIp, "a.example")->cooldown_until, at_s(602));
  // Lines of the site while it cools for it go to history only.
  e.apply(site_fail(kIp, 100, "a.example"));
  EXPECT_EQ(site_of(e, kIp, "a.example")->cooldown_until, at_s(602));

  e.tick(at_s(603));
  ASSERT_EQ(site_state(e, kIp, "a.example"), IpState::probation);
  EXPECT_NEAR(share_for(e, kIp, "a.example"), 0.1F, 1e-6);
  // A failure on probation doubles the site's backoff; the IP's own stays at 1.
  e.apply(site_fail(kIp, 610, "a.example"));
  ASSERT_EQ(site_state(e, kIp, "a.example"), IpState::cooling);
  EXPECT_EQ(site_of(e, kIp, "a.example")->backoff_multiplier, 2.0);
  EXPECT_EQ(site_of(e, kIp, "a.example")->cooldown_until, at_s(610 + 1200));
  EXPECT_EQ(e.find(kIp)->backoff_multiplier, 1.0);
  EXPECT_EQ(decisions_of(e, kIp).back().kind, DecisionKind::probation_failed);

  e.tick(at_s(1811));
  ASSERT_EQ(site_state(e, kIp, "a.example"), IpState::probation);
  e.apply(site_ok(kIp, 1812, "a.example"));
  EXPECT_EQ(site_state(e, kIp, "a.example"), IpState::available);
  EXPECT_EQ(decisions_of(e, kIp).back().kind, DecisionKind::recover);
  EXPECT_EQ(e.counters().site_recoveries, 1U);
  ASSERT_NE(site_of(e, kIp, "a.example"), nullptr) << "backoff x2 is still remembered";

  // Healthy for backoff_decay_after: the multiplier decays and the record is forgotten.
  e.apply(site_ok(kIp, 1812 + 1800 + 5, "a.example"));
  EXPECT_EQ(site_of(e, kIp, "a.example"), nullptr);
  EXPECT_EQ(e.sites_tracked(), 0U);
}

TEST(EngineSitesTest, failures_outside_the_window_do_not_add_up) {
  Engine e(test_config(), egresses(3), kBase);
  e.apply(site_fail(kIp, 0, "a.example"));
  e.apply(site_fail(kIp, 200, "a.example"));
  e.apply(site_fail(kIp, 400, "a.example"));  // the first fell out of the 5 min window
  EXPECT_EQ(site_state(e, kIp, "a.example"), IpState::available);
  EXPECT_EQ(site_of(e, kIp, "a.example")->consecutive_failures(), 2U);
  e.apply(site_fail(kIp, 401, "a.example"));
  EXPECT_EQ(site_state(e, kIp, "a.example"), IpState::cooling);
}

TEST(EngineSitesTest, a_success_of_the_site_resets_its_streak_and_forgets_it) {
  Engine e(test_config(), egresses(3), kBase);
  e.apply(site_fail(kIp, 0, "a.example"));
  e.apply(site_fail(kIp, 1, "a.example"));
  ASSERT_EQ(e.sites_tracked(), 1U);
  e.apply(site_ok(kIp, 2, "x.a.example"));  // the same site
  EXPECT_EQ(e.sites_tracked(), 0U);
  e.apply(site_fail(kIp, 3, "a.example"));
  EXPECT_EQ(site_of(e, kIp, "a.example")->consecutive_failures(), 1U);
}

TEST(EngineSitesTest, the_egresss_own_failures_eject_it_for_every_site) {
  Engine e(test_config(), egresses(3), kBase);
  // nginx answered 502 itself, without an upstream status: nothing was reached.
  for (long long t = 0; t < 3; ++t)
    e.apply(log_event(kIp, at_s(t), 502, 0, "k1", "a.example"));
  EXPECT_EQ(e.find(kIp)->state, IpState::cooling);
  EXPECT_EQ(e.sites_tracked(), 0U);
  EXPECT_EQ(e.counters().ejections_failures, 1U);

  // Dial failures are the egress's too.
  Engine d(test_config(), egresses(3), kBase);
  for (long long t = 0; t < 3; ++t)
    d.apply(dial(kIp, at_s(t), ipm::pool::DialResult::refused));
  EXPECT_EQ(d.find(kIp)->state, IpState::cooling);
  EXPECT_EQ(d.counters().ejections_dial, 1U);
}

TEST(EngineSitesTest, lines_without_a_target_judge_the_egress_as_before) {
  Engine e(test_config(), egresses(3), kBase);
  for (long long t = 0; t < 3; ++t)
    e.apply(log_event(kIp, at_s(t), 403, 403, "k1", "-"));
  EXPECT_EQ(e.find(kIp)->state, IpState::cooling);
  EXPECT_EQ(e.sites_tracked(), 0U);

  auto cfg = test_config();
  cfg.target_grouping = ipm::config::TargetGrouping::none;
  Engine none(cfg, egresses(3), kBase);
  for (long long t = 0; t < 3; ++t)
    none.apply(site_fail(kIp, t, "a.example"));
  EXPECT_EQ(none.find(kIp)->state, IpState::cooling) << "target_grouping: none";
}

TEST(EngineSitesTest, failures_on_many_sites_eject_the_egress_for_all) {
  auto cfg = test_config();
  cfg.failing_sites_to_eject = 3;
  Engine e(cfg, egresses(3), kBase);
  e.apply(site_fail(kIp, 0, "a.example"));
  e.apply(site_fail(kIp, 1, "b.example"));
  EXPECT_EQ(e.find(kIp)->state, IpState::available);
  e.apply(site_fail(kIp, 2, "c.example"));
  EXPECT_EQ(e.find(kIp)->state, IpState::cooling);
  EXPECT_EQ(e.counters().ejections_sites, 1U);
  EXPECT_EQ(e.find(kIp)->cooldowns.newest().reason, ipm::pool::CooldownReason::many_sites);
  EXPECT_THAT(e.find(kIp)->last_reason, HasSubstr("failures on 3 sites"));
  EXPECT_TRUE(decisions_of(e, kIp).back().site.empty());
}

TEST(EngineSitesTest, many_sites_counts_only_sites_still_failing_within_the_window) {
  auto cfg = test_config();
  cfg.failing_sites_to_eject = 3;
  Engine e(cfg, egresses(3), kBase);
  e.apply(site_fail(kIp, 0, "a.example"));
  e.apply(site_fail(kIp, 1, "b.example"));
  e.apply(site_ok(kIp, 2, "b.example"));      // b works again
  e.apply(site_fail(kIp, 250, "c.example"));  // two failing sites: a, c
  EXPECT_EQ(e.find(kIp)->state, IpState::available);
  e.apply(site_fail(kIp, 400, "d.example"));  // a fell out of the window: c, d
  EXPECT_EQ(e.find(kIp)->state, IpState::available);
  e.apply(site_fail(kIp, 401, "e.example"));  // c, d, e
  EXPECT_EQ(e.find(kIp)->state, IpState::cooling);
}

TEST(EngineSitesTest, the_ejection_cap_holds_per_site) {
  auto cfg = test_config();
  cfg.max_ejected_percent = 50;  // 2 of 4
  Engine e(cfg, egresses(4), kBase);
  for (int ip = 1; ip <= 4; ++ip) {
    const std::string name = "127.0.1." + std::to_string(ip);
    for (long long t = 0; t < 3; ++t)
      e.apply(site_fail(name, ip * 10 + t, "a.example"));
  }
  int out = 0;
  for (int ip = 1; ip <= 4; ++ip)
    out += site_state(e, "127.0.1." + std::to_string(ip), "a.example") == IpState::cooling;
  EXPECT_EQ(out, 2) << "a.example can never empty the pool for itself";
  EXPECT_GT(e.counters().site_ejections_capped, 0U);
  // Another site is not limited by a.example's ejections.
  for (long long t = 0; t < 3; ++t)
    e.apply(site_fail("127.0.1.4", 100 + t, "b.example"));
  EXPECT_EQ(site_state(e, "127.0.1.4", "b.example"), IpState::cooling);
  // An IP cooling for all counts toward every site's cap.
  for (long long t = 0; t < 3; ++t)
    e.apply(log_event("127.0.1.3", at_s(200 + t), 502, 0, "k1", "a.example"));
  ASSERT_EQ(e.find("127.0.1.3")->state, IpState::cooling);
  for (long long t = 0; t < 3; ++t)
    e.apply(site_fail("127.0.1.2", 210 + t, "b.example"));
  EXPECT_EQ(site_state(e, "127.0.1.2", "b.example"), IpState::available)
      << "127.0.1.3 (all) and 127.0.1.4 (b.example) are out: the cap for b.example is reached";
}

TEST(EngineSitesTest, the_least_recently_failed_site_is_evicted_past_the_cap) {
  auto cfg = test_config();
  cfg.max_sites_per_ip = 2;
  cfg.failing_sites_to_eject = 0;
  Engine e(cfg, egresses(3), kBase);
  for (long long t = 0; t < 3; ++t)
    e.apply(site_fail(kIp, t, "a.example"));
  ASSERT_EQ(site_state(e, kIp, "a.example"), IpState::cooling);
  e.apply(site_fail(kIp, 10, "b.example"));
  e.apply(site_fail(kIp, 20, "c.example"));  // a failed least recently: dropped
  EXPECT_EQ(site_of(e, kIp, "a.example"), nullptr);
  EXPECT_NE(site_of(e, kIp, "b.example"), nullptr);
  EXPECT_NE(site_of(e, kIp, "c.example"), nullptr);
  EXPECT_EQ(e.counters().sites_evicted, 1U);
  EXPECT_EQ(e.find(kIp)->counters.sites_evicted, 1U);
  const auto d = decisions_of(e, kIp);
  const auto evicted = std::find_if(
      d.begin(), d.end(), [](const auto& x) { return x.kind == DecisionKind::site_evicted; });
  ASSERT_NE(evicted, d.end()) << "a site that was out is dropped with a decision";
  EXPECT_EQ(evicted->site, "a.example");
  EXPECT_EQ(share_for(e, kIp, "a.example"), 1.0F);
}

TEST(EngineSitesTest, manual_commands_name_a_site) {
  Engine e(test_config(), egresses(3), kBase);
  EXPECT_EQ(e.ban_site(kIp, "www.a.example", ipm::pool::TimePoint::max(), "blocked", at_s(0)),
            SiteCommand::done);
  EXPECT_EQ(site_state(e, kIp, "a.example"), IpState::banned);
  EXPECT_EQ(e.find(kIp)->state, IpState::available);
  EXPECT_EQ(share_for(e, kIp, "a.example"), 0.0F);
  EXPECT_THAT(decisions_of(e, kIp).back().reason, HasSubstr("blocked"));

  EXPECT_EQ(e.ban_site("127.9.9.9", "a.example", at_s(60), "", at_s(0)), SiteCommand::unknown_ip);
  EXPECT_EQ(e.ban_site(kIp, "-", at_s(60), "", at_s(0)), SiteCommand::no_site);
  EXPECT_EQ(e.unban_site(kIp, "b.example", at_s(1)), SiteCommand::not_tracked);

  EXPECT_EQ(e.unban_site(kIp, "a.example", at_s(1)), SiteCommand::done);
  EXPECT_EQ(site_state(e, kIp, "a.example"), IpState::available);
  EXPECT_EQ(e.sites_tracked(), 0U) << "nothing left to remember";

  // A timed ban ends in probation for the site.
  e.ban_site(kIp, "a.example", at_s(60), "", at_s(2));
  e.tick(at_s(61));
  EXPECT_EQ(site_state(e, kIp, "a.example"), IpState::probation);
  EXPECT_EQ(e.reset_site(kIp, "a.example", at_s(62)), SiteCommand::done);
  EXPECT_EQ(e.sites_tracked(), 0U);
}

TEST(EngineSitesTest, an_ip_literal_is_its_own_site_and_grouping_host_keeps_hosts_apart) {
  Engine e(test_config(), egresses(3), kBase);
  for (long long t = 0; t < 3; ++t)
    e.apply(site_fail(kIp, t, "[::1]:8443"));
  EXPECT_EQ(site_state(e, kIp, "::1"), IpState::cooling);

  auto cfg = test_config();
  cfg.target_grouping = ipm::config::TargetGrouping::host;
  Engine h(cfg, egresses(3), kBase);
  for (long long t = 0; t < 3; ++t)
    h.apply(site_fail(kIp, t, t % 2 == 0 ? "x.a.example" : "y.a.example"));
  EXPECT_EQ(h.sites_tracked(), 2U);
  EXPECT_EQ(site_state(h, kIp, "x.a.example"), IpState::available);
}

}  // namespace
