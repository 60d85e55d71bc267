#include "strategy/engine.hpp"

#include <algorithm>
#include <vector>

#include <gtest/gtest.h>

#include "engine_fixture.hpp"

// The snapshot selection reads is built incrementally (issue 22): a change builds again the
// chunk of entries holding its IP and shares every other chunk, and each IP's PickTarget
// lives until its egress changes, so a state change costs the same in a pool of 100 or of
// 10,000. (Debug builds also check every snapshot against one built from scratch.)

namespace {

using namespace ipm::strategy::test;
using ipm::pool::IpState;
using ipm::pool::SnapshotEntries;
using ipm::strategy::Engine;

constexpr std::size_t kChunk = SnapshotEntries::kChunk;

// Which chunks of `b` are not those of `a`.
std::vector<std::size_t> rebuilt(const ipm::pool::Snapshot& a, const ipm::pool::Snapshot& b) {
  std::vector<std::size_t> out;
  for (std::size_t c = 0; c < b.ips.chunk_count(); ++c) {
    if (c >= a.ips.chunk_count() || a.ips.chunk(c) != b.ips.chunk(c))
      out.push_back(c);
  }
  return out;
}

TEST(EngineSnapshotTest, a_state_change_builds_again_only_the_chunk_of_its_ip) {
  const auto pool = egresses(3 * kChunk + 5);
  Engine e(test_config(), pool, kBase);
  const auto before = e.snapshot();
  ASSERT_EQ(before.ips.size(), pool.size());
  ASSERT_EQ(before.ips.chunk_count(), 4U);
  EXPECT_TRUE(rebuilt(before, e.snapshot()).empty()) << "nothing changed, nothing built";

  ASSERT_TRUE(e.ban(pool[kChunk + 3].ip, at_s(100), "", at_s(1)));
  const auto banned = e.snapshot();
  EXPECT_EQ(rebuilt(before, banned), std::vector<std::size_t>{1});
  EXPECT_EQ(banned.ips[kChunk + 3].state, IpState::banned);
  EXPECT_FALSE(banned.ips[kChunk + 3].selectable);
  EXPECT_EQ(banned.count(IpState::banned), 1U);

  ASSERT_TRUE(e.set_disabled(pool[3 * kChunk + 1].ip, true, at_s(2)));
  const auto disabled = e.snapshot();
  EXPECT_EQ(rebuilt(banned, disabled), std::vector<std::size_t>{3});
  EXPECT_FALSE(disabled.ips[3 * kChunk + 1].selectable);
  EXPECT_TRUE(before.ips[3 * kChunk + 1].selectable) << "a published snapshot never changes";
}

TEST(EngineSnapshotTest, an_ip_keeps_its_pick_target_until_its_egress_changes) {
  const auto pool = egresses(2 * kChunk);
  Engine e(test_config(), pool, kBase);
  const auto first = e.snapshot();
  ASSERT_TRUE(e.ban(pool[0].ip, at_s(100), "", at_s(1)));
  const auto second = e.snapshot();
  for (std::size_t i : {std::size_t{0}, std::size_t{1}, kChunk}) {
    EXPECT_EQ(first.ips[i].target, second.ips[i].target) << i;
    EXPECT_EQ(first.ips[i].active, first.ips[i].target->active) << i;
  }

  ASSERT_TRUE(e.set_weight(pool[1].ip, 7, at_s(2)));
  const auto weighted = e.snapshot();
  EXPECT_NE(weighted.ips[1].target, second.ips[1].target) << "a new egress, a new target";
  EXPECT_EQ(weighted.ips[1].target->egress.weight, 7U);
  EXPECT_EQ(weighted.ips[1].egress.weight, 7U);
  EXPECT_EQ(weighted.ips[1].active, second.ips[1].active) << "its connections still count";
  EXPECT_EQ(weighted.ips[0].target, second.ips[0].target);
}

TEST(EngineSnapshotTest, a_reload_builds_every_chunk_and_keeps_the_counts_of_ips_that_stay) {
  auto pool = egresses(kChunk + 2);
  Engine e(test_config(), pool, kBase);
  const auto before = e.snapshot();
  std::rotate(pool.begin(), pool.begin() + 1, pool.end());  // every IP moves one place
  pool.pop_back();
  e.reload(pool, at_s(1));
  const auto after = e.snapshot();
  ASSERT_EQ(after.ips.size(), kChunk + 1);
  EXPECT_EQ(rebuilt(before, after).size(), 2U);
  EXPECT_EQ(after.ips[0].egress.ip, before.ips[1].egress.ip);
  EXPECT_EQ(after.ips[0].active, before.ips[1].active);
}

TEST(EngineSnapshotTest, site_rules_follow_a_site_ban_and_its_lift) {
  const auto pool = egresses(kChunk + 1);
  Engine e(test_config(), pool, kBase);
  const auto before = e.snapshot();
  ASSERT_TRUE(before.sites.empty());
  ASSERT_EQ(e.ban_site(pool[kChunk].ip, "a.example", at_s(100), "", at_s(1)),
            ipm::strategy::SiteCommand::done);
  const auto banned = e.snapshot();
  EXPECT_TRUE(rebuilt(before, banned).empty()) << "the IP's own entry did not change";
  ASSERT_EQ(banned.sites.size(), 1U);
  EXPECT_FALSE(banned.selectable_for(kChunk, ipm::pool::SiteName("a.example")));
  ASSERT_EQ(e.unban_site(pool[kChunk].ip, "a.example", at_s(2)), ipm::strategy::SiteCommand::done);
  EXPECT_TRUE(e.snapshot().sites.empty());
}

}  // namespace
