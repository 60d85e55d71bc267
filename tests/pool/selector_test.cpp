#include "pool/selector.hpp"

#include <map>
#include <set>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "pool/site.hpp"

namespace {

using ipm::config::Selection;
using ipm::pool::IpState;
using ipm::pool::Selector;
using ipm::pool::Snapshot;
using ipm::pool::SnapshotEntry;

SnapshotEntry entry(int n, IpState state, double share, std::uint32_t weight = 1) {
  SnapshotEntry e;
  e.egress = {.ip = "127.0.1." + std::to_string(n),
              .port = static_cast<std::uint16_t>(19000 + n),
              .server_name = {},
              .weight = weight};
  e.state = state;
  e.selectable = state == IpState::available || state == IpState::probation;
  e.share = share;
  return e;
}

// 8 IPs: 1-5 available with weights 1..5, 6 on probation (share 0.1), 7 cooling, 8 banned.
Snapshot mixed_pool() {
  Snapshot s;
  for (int i = 1; i <= 5; ++i)
    s.ips.push_back(entry(i, IpState::available, 1.0, static_cast<std::uint32_t>(i)));
  s.ips.push_back(entry(6, IpState::probation, 0.1, 1));
  s.ips.push_back(entry(7, IpState::cooling, 0.0, 9));
  s.ips.push_back(entry(8, IpState::banned, 0.0, 9));
  return s;
}

std::map<std::string, int> draw(Selector& sel, int n) {
  std::map<std::string, int> counts;
  for (int i = 0; i < n; ++i) {
    auto p = sel.pick();
    EXPECT_TRUE(p.has_value());
    if (p)
      ++counts[p->egress().ip];
  }
  return counts;
}

class SelectorPolicyTest : public ::testing::TestWithParam<Selection> {};

// A pool of every kind: nginx 1-2, a source of each family, an upstream that reaches both.
Snapshot every_kind() {
  Snapshot s;
  s.ips.push_back(entry(1, IpState::available, 1.0));
  s.ips.push_back(entry(2, IpState::available, 1.0));
  SnapshotEntry v4 = entry(3, IpState::available, 1.0);
  v4.egress.kind = ipm::pool::EgressKind::source;
  v4.egress.family = ipm::pool::Family::ipv4;
  SnapshotEntry v6 = entry(4, IpState::available, 1.0);
  v6.egress.ip = "2001:db8::4";
  v6.egress.kind = ipm::pool::EgressKind::source;
  v6.egress.family = ipm::pool::Family::ipv6;
  SnapshotEntry up = entry(5, IpState::available, 1.0);
  up.egress.ip = "127.0.0.1:1080";
  up.egress.kind = ipm::pool::EgressKind::upstream;
  s.ips.push_back(v4);
  s.ips.push_back(v6);
  s.ips.push_back(up);
  return s;
}

ipm::pool::Request dispatch_request(ipm::pool::Family family) {
  ipm::pool::Request r;
  r.kinds = ipm::pool::Request::kind_bit(ipm::pool::EgressKind::source) |
            ipm::pool::Request::kind_bit(ipm::pool::EgressKind::upstream);
  r.family = family;
  return r;
}

TEST_P(SelectorPolicyTest, offers_only_egresses_of_the_kinds_and_family_asked_for) {
  using ipm::pool::Family;
  Selector sel(GetParam());
  sel.publish(every_kind());
  const auto seen = [&](const ipm::pool::Request& r) {
    std::set<std::string> ips;
    for (int i = 0; i < 2000; ++i) {
      auto p = sel.pick(r);
      if (p)
        ips.insert(p->egress().ip);
    }
    return ips;
  };
  EXPECT_THAT(seen(ipm::pool::kNginxRequest), testing::ElementsAre("127.0.1.1", "127.0.1.2"));
  EXPECT_THAT(seen(dispatch_request(Family::ipv4)),
              testing::UnorderedElementsAre("127.0.1.3", "127.0.0.1:1080"));
  EXPECT_THAT(seen(dispatch_request(Family::ipv6)),
              testing::UnorderedElementsAre("2001:db8::4", "127.0.0.1:1080"));
  EXPECT_THAT(seen(dispatch_request(Family::any)),
              testing::UnorderedElementsAre("127.0.1.3", "2001:db8::4", "127.0.0.1:1080"));
  // Excluding what was tried still leaves only what can serve the request.
  EXPECT_FALSE(sel.pick(dispatch_request(Family::ipv4),
                        std::vector<std::string>{"127.0.1.3", "127.0.0.1:1080"})
                   .has_value());
}

TEST(SelectorTest, weighted_rotation_gives_go_dispatch_proxy_ratios_exactly) {
  // `ipmanager dispatch A@3 B@2`: 3 of every 5 connections leave from A.
  Snapshot s;
  for (int n = 1; n <= 2; ++n) {
    SnapshotEntry e = entry(n, IpState::available, 1.0, n == 1 ? 3 : 2);
    e.egress.kind = ipm::pool::EgressKind::source;
    e.egress.family = ipm::pool::Family::ipv4;
    s.ips.push_back(e);
  }
  Selector sel(Selection::weighted);
  sel.publish(std::move(s));
  for (int round = 0; round < 4; ++round) {
    std::map<std::string, int> counts;
    for (int i = 0; i < 5; ++i)
      ++counts[sel.pick(dispatch_request(ipm::pool::Family::ipv4))->egress().ip];
    EXPECT_EQ(counts["127.0.1.1"], 3) << "round " << round;
    EXPECT_EQ(counts["127.0.1.2"], 2) << "round " << round;
  }
}

TEST_P(SelectorPolicyTest, never_returns_an_unselectable_ip_and_honours_probation_share) {
  Selector sel(GetParam());
  sel.publish(mixed_pool());
  const int n = 200000;
  auto counts = draw(sel, n);
  EXPECT_EQ(counts.count("127.0.1.7"), 0U);
  EXPECT_EQ(counts.count("127.0.1.8"), 0U);
  const bool weighted = GetParam() == Selection::weighted || GetParam() == Selection::least_conn;
  // Healthy weight units: 1+..+5 = 15 (weighted) or 5; probation: 0.1 of a weight-1 IP.
  const double units = weighted ? 15.0 : 5.0;
  const double expected_probation = n * 0.1 / (units + 0.1);
  EXPECT_NEAR(counts["127.0.1.6"], expected_probation, expected_probation * 0.15);
  for (int i = 1; i <= 5; ++i) {
    const double w = weighted ? i : 1.0;
    const double expected = n * w / (units + 0.1);
    EXPECT_NEAR(counts["127.0.1." + std::to_string(i)], expected, expected * 0.05)
        << "127.0.1." << i;
  }
}

TEST_P(SelectorPolicyTest, exclude_skips_what_was_tried) {
  Selector sel(GetParam());
  sel.publish(mixed_pool());
  const std::vector<std::string> tried = {"127.0.1.5", "127.0.1.4", "127.0.1.3"};
  for (int i = 0; i < 2000; ++i) {
    auto p = sel.pick(tried);
    ASSERT_TRUE(p.has_value());
    EXPECT_THAT(p->egress().ip, ::testing::AnyOf("127.0.1.1", "127.0.1.2", "127.0.1.6"));
  }
  const std::vector<std::string> all = {"127.0.1.1", "127.0.1.2", "127.0.1.3",
                                        "127.0.1.4", "127.0.1.5", "127.0.1.6"};
  EXPECT_FALSE(sel.pick(all).has_value());
}

TEST_P(SelectorPolicyTest, empty_or_fully_unavailable_pool_gives_nothing) {
  Selector sel(GetParam());
  EXPECT_FALSE(sel.pick().has_value());  // nothing published yet
  Snapshot s;
  s.ips.push_back(entry(1, IpState::cooling, 0.0));
  s.all_unavailable = true;
  sel.publish(std::move(s));
  EXPECT_FALSE(sel.pick().has_value());
}

INSTANTIATE_TEST_SUITE_P(Policies, SelectorPolicyTest,
                         ::testing::Values(Selection::random, Selection::round_robin,
                                           Selection::weighted, Selection::least_conn),
                         [](const auto& param_info) {
                           return std::string(ipm::config::to_string(param_info.param));
                         });

TEST(SelectorTest, weighted_spreads_smoothly_not_in_blocks) {
  Snapshot s;
  s.ips.push_back(entry(1, IpState::available, 1.0, 5));
  s.ips.push_back(entry(2, IpState::available, 1.0, 1));
  s.ips.push_back(entry(3, IpState::available, 1.0, 1));
  const auto schedule = ipm::pool::build_schedule(s, Selection::weighted).to_vector();
  ASSERT_EQ(schedule.size(), 7U);
  // nginx's smooth WRR gives a a b a c a a for 5:1:1; never more than 3 a's in a row here.
  int run = 0;
  int longest = 0;
  for (auto i : schedule) {
    run = i == 0 ? run + 1 : 0;
    longest = std::max(longest, run);
  }
  EXPECT_LE(longest, 3);
}

TEST(SelectorTest, round_robin_visits_every_ip_once_per_cycle) {
  Selector sel(Selection::round_robin);
  Snapshot s;
  for (int i = 1; i <= 4; ++i)
    s.ips.push_back(entry(i, IpState::available, 1.0, static_cast<std::uint32_t>(i * 7)));
  sel.publish(std::move(s));
  std::set<std::string> cycle;
  for (int i = 0; i < 4; ++i)
    cycle.insert(sel.pick()->egress().ip);
  EXPECT_EQ(cycle.size(), 4U);  // weights ignored by round_robin
}

TEST(SelectorTest, least_conn_prefers_the_idle_ip_and_picks_count_connections) {
  Selector sel(Selection::least_conn);
  Snapshot s;
  s.ips.push_back(entry(1, IpState::available, 1.0));
  s.ips.push_back(entry(2, IpState::available, 1.0));
  sel.publish(std::move(s));
  std::vector<ipm::pool::Pick> held;
  for (int i = 0; i < 100; ++i)
    held.push_back(*sel.pick(std::vector<std::string>{"127.0.1.2"}));  // load 100 on .1
  EXPECT_EQ(sel.snapshot()->ips[0].active->value.load(), 100U);
  auto counts = draw(sel, 1000);        // the picks are released at once: load stays 100 vs 0-1
  EXPECT_GT(counts["127.0.1.2"], 650);  // P2C: .1 wins only when drawn twice (~750)
  held.clear();
  EXPECT_EQ(sel.snapshot()->ips[0].active->value.load(), 0U);
}

TEST(SelectorTest, connection_counts_survive_a_new_snapshot) {
  Selector sel(Selection::random);
  Snapshot s;
  s.ips.push_back(entry(1, IpState::available, 1.0));
  sel.publish(s);
  auto p = sel.pick();
  ASSERT_TRUE(p);
  s.version = 2;
  s.ips.push_back(entry(2, IpState::available, 1.0));
  sel.publish(s);
  EXPECT_EQ(sel.snapshot()->ips[0].active->value.load(), 1U);
  auto moved = std::move(*p);
  p.reset();
  EXPECT_EQ(sel.snapshot()->ips[0].active->value.load(), 1U);
  moved = std::move(*sel.pick(std::vector<std::string>{"127.0.1.1"}));
  EXPECT_EQ(sel.snapshot()->ips[0].active->value.load(), 0U);
  EXPECT_EQ(sel.snapshot()->ips[1].active->value.load(), 1U);
}

TEST(SelectorTest, set_policy_rebuilds_the_schedule_and_keeps_connection_counts) {
  Selector sel(Selection::random);
  Snapshot s;
  s.ips.push_back(entry(1, IpState::available, 1.0, 1));
  s.ips.push_back(entry(2, IpState::available, 1.0, 3));
  sel.publish(s);
  auto held = sel.pick(std::vector<std::string>{"127.0.1.2"});
  ASSERT_TRUE(held);

  sel.set_policy(Selection::weighted);  // a SIGHUP reload
  EXPECT_EQ(sel.policy(), Selection::weighted);
  EXPECT_EQ(sel.snapshot()->policy, Selection::weighted);
  auto counts = draw(sel, 400);  // weighted is deterministic: 1:3 exactly
  EXPECT_EQ(counts["127.0.1.1"], 100);
  EXPECT_EQ(counts["127.0.1.2"], 300);
  EXPECT_EQ(sel.snapshot()->ips[0].active->value.load(), 1U) << "the open connection is kept";

  s.version = 2;
  sel.publish(s);  // later snapshots from the engine get the new policy too
  EXPECT_EQ(sel.snapshot()->policy, Selection::weighted);
}

TEST(SelectorTest, picks_and_publishes_race_safely) {
  Selector sel(Selection::round_robin);
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> wrong{0};
  {
    std::vector<std::jthread> threads;
    for (int t = 0; t < 3; ++t) {
      threads.emplace_back([&] {
        while (!stop.load()) {
          if (auto p = sel.pick(); p && p->state() != IpState::available)
            ++wrong;
        }
      });
    }
    threads.emplace_back([&] {
      for (int v = 0; v < 3000; ++v) {
        Snapshot s;
        s.version = static_cast<std::uint64_t>(v);
        for (int i = 1; i <= 20; ++i) {
          const bool up = (i + v) % 3 != 0;
          s.ips.push_back(entry(i, up ? IpState::available : IpState::cooling, up ? 1.0 : 0.0));
        }
        sel.publish(std::move(s));
      }
      stop = true;
    });
  }
  EXPECT_EQ(wrong.load(), 0U);
}

}  // namespace

namespace {

// Health per target site: the snapshot's per-site rules steer picks that name the site only.
Snapshot pool_with_site_rules() {
  Snapshot s;
  for (int i = 1; i <= 4; ++i)
    s.ips.push_back(entry(i, IpState::available, 1.0));
  // a.example: 127.0.1.1 out, 127.0.1.2 on probation (share 0.25).
  s.set_sites({ipm::pool::SiteRules{
      .site = "a.example", .rules = {{.ip = 0, .share = 0.0F}, {.ip = 1, .share = 0.25F}}}});
  return s;
}

std::map<std::string, int> draw_for(Selector& sel, std::string_view site, int n) {
  ipm::pool::Request r;
  r.site = site;
  std::map<std::string, int> counts;
  for (int i = 0; i < n; ++i) {
    auto p = sel.pick(r);
    EXPECT_TRUE(p.has_value());
    if (p)
      ++counts[p->egress().ip];
  }
  return counts;
}

TEST_P(SelectorPolicyTest, an_ip_out_for_a_site_serves_every_other_site) {
  Selector sel(GetParam());
  sel.publish(pool_with_site_rules());
  EXPECT_TRUE(sel.has_site_rules());
  const auto a = draw_for(sel, "a.example", 4000);
  EXPECT_EQ(a.count("127.0.1.1"), 0U) << "out for a.example";
  EXPECT_GT(a.at("127.0.1.2"), 0) << "probation for a.example still tests it";
  EXPECT_LT(a.at("127.0.1.2"), a.at("127.0.1.3") / 2) << "with a reduced share";
  const auto b = draw_for(sel, "b.example", 4000);
  EXPECT_GT(b.at("127.0.1.1"), 500) << "b.example has no rules: the IP is as good as any";
  const auto none = draw(sel, 4000);
  EXPECT_GT(none.at("127.0.1.1"), 500);
}

TEST(SelectorSiteTest, all_out_for_a_site_picks_as_without_a_site) {
  Snapshot s;
  s.ips.push_back(entry(1, IpState::available, 1.0));
  s.ips.push_back(entry(2, IpState::available, 1.0));
  s.set_sites({ipm::pool::SiteRules{
      .site = "a.example", .rules = {{.ip = 0, .share = 0.0F}, {.ip = 1, .share = 0.0F}}}});
  Selector sel(Selection::random);
  sel.publish(std::move(s));
  ipm::pool::Request r;
  r.site = "a.example";
  EXPECT_TRUE(sel.pick(r).has_value());
  const std::string exclude[] = {"127.0.1.1"};
  const auto p = sel.pick(r, exclude);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->egress().ip, "127.0.1.2");
}

TEST(SelectorSiteTest, site_rules_are_found_among_many_sites) {
  Snapshot s;
  s.ips.push_back(entry(1, IpState::available, 1.0));
  std::vector<ipm::pool::SiteRules> rules;
  for (int i = 0; i < 1000; ++i)
    rules.push_back({.site = "s" + std::to_string(i) + ".example", .rules = {{.ip = 0}}});
  s.set_sites(std::move(rules));
  for (int i = 0; i < 1000; ++i)
    ASSERT_NE(s.rules_for("s" + std::to_string(i) + ".example"), nullptr) << i;
  EXPECT_EQ(s.rules_for("s1000.example"), nullptr);
  EXPECT_EQ(s.rules_for(""), nullptr);
  EXPECT_FALSE(s.selectable_for(0, "s5.example"));
  EXPECT_TRUE(s.selectable_for(0, "other.example"));
}

// The indexed lookup (filter and open addressing) answers as the sorted rules do, for IPs
// whose filter bits and table slots collide (1,024 apart), for a site with many rules, and
// for sites whose rules are all outs (their filter bits answer alone below 1,024).
TEST(SelectorSiteTest, indexed_shares_agree_with_the_sorted_rules) {
  for (const std::vector<std::uint32_t>& ips :
       {std::vector<std::uint32_t>{0, 3, 256, 512, 768, 1000, 1024, 2048, 2051},
        std::vector<std::uint32_t>{0, 3, 256, 1000, 1023}, [] {
          std::vector<std::uint32_t> v;
          for (std::uint32_t i = 0; i < 3000; i += 7)
            v.push_back(i);
          return v;
        }()}) {
    for (const bool all_out : {false, true}) {
      ipm::pool::SiteRules plain{.site = "a.example", .rules = {}};
      for (std::size_t k = 0; k < ips.size(); ++k)
        plain.rules.push_back({.ip = ips[k], .share = all_out || k % 2 == 0 ? 0.0F : 0.25F});
      ipm::pool::SiteRules indexed = plain;
      indexed.index();
      ASSERT_FALSE(indexed.by_ip.empty());
      EXPECT_EQ(indexed.bits_are_outs, all_out && ips.back() < 1024);
      for (std::uint32_t ip = 0; ip < 4000; ++ip)
        ASSERT_EQ(indexed.share_of(ip), plain.share_of(ip)) << ip << " all_out " << all_out;
    }
  }
}

// The grouper hands out a site's hash with it; a request's site found by that hash is the
// same as by the name.
TEST(SelectorSiteTest, a_grouped_site_finds_its_rules_by_the_kept_hash) {
  const ipm::pool::SiteGrouper grouper(ipm::config::TargetGrouping::host);
  const auto grouped = grouper.grouped("WWW.A.Example:443");
  EXPECT_EQ(grouped.site, "www.a.example");
  EXPECT_EQ(grouped.hash, ipm::pool::SiteName::hash_of("www.a.example"));
  EXPECT_EQ(grouper.grouped("www.a.example").hash, grouped.hash) << "from the cache too";
  Snapshot s;
  s.ips.push_back(entry(1, IpState::available, 1.0));
  s.set_sites({ipm::pool::SiteRules{.site = "www.a.example", .rules = {{.ip = 0}}}});
  EXPECT_NE(s.rules_for(grouped.name()), nullptr);
  EXPECT_EQ(s.rules_for(ipm::pool::SiteName::prehashed("www.a.example", grouped.hash + 1)), nullptr)
      << "the lookup goes by the kept hash, not by a hash of its own";
}
}  // namespace
