#include "pool/schedule.hpp"

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "pool/selector.hpp"

namespace {

using ipm::pool::IpState;
using ipm::pool::Schedule;
using ipm::pool::SnapshotEntries;
using ipm::pool::SnapshotEntry;

constexpr std::size_t kChunk = SnapshotEntries::kChunk;

SnapshotEntry entry(std::size_t i, bool selectable = true, double share = 1.0,
                    std::uint32_t weight = 1) {
  SnapshotEntry e;
  e.egress.ip = "10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256);
  e.egress.weight = weight;
  e.state = share < 1.0 ? IpState::probation : IpState::available;
  e.selectable = selectable;
  e.share = selectable ? share : 0.0;
  auto active = std::make_shared<ipm::pool::ActiveCount>();
  e.active = active;
  e.target = std::make_shared<const ipm::pool::PickTarget>(ipm::pool::PickTarget{e.egress, active});
  return e;
}

// n IPs, weight 1 + i % 3, every seventh not selectable.
SnapshotEntries pool(std::size_t n) {
  SnapshotEntries ips;
  for (std::size_t i = 0; i < n; ++i)
    ips.push_back(entry(i, i % 7 != 3, 1.0, static_cast<std::uint32_t>(1 + i % 3)));
  return ips;
}

// `ips` with entry i replaced by `e`: its chunk is new, every other chunk is shared.
SnapshotEntries with(const SnapshotEntries& ips, std::size_t i, SnapshotEntry e) {
  SnapshotEntries out;
  for (std::size_t c = 0; c < ips.chunk_count(); ++c) {
    if (c != i / kChunk) {
      out.push_chunk(ips.chunk(c));
      continue;
    }
    auto chunk = std::make_shared<SnapshotEntries::Chunk>(*ips.chunk(c));
    (*chunk)[i % kChunk] = std::move(e);
    out.push_chunk(std::move(chunk));
  }
  return out;
}

TEST(ScheduleTest, equal_weights_give_the_selectable_ips_in_index_order) {
  const SnapshotEntries ips = pool(300);
  const Schedule s = Schedule::build(ips, /*use_weight=*/false);
  std::vector<std::uint32_t> want;
  for (std::uint32_t i = 0; i < 300; ++i) {
    if (i % 7 != 3)
      want.push_back(i);
  }
  EXPECT_EQ(s.to_vector(), want);
  ASSERT_EQ(s.size(), want.size());
  for (std::size_t p = 0; p < s.size(); ++p)
    ASSERT_EQ(s[p], want[p]) << "position " << p;
}

TEST(ScheduleTest, positions_read_back_when_chunks_contribute_unequally) {
  // Chunk 0 whole, chunks 1-4 one IP each, chunk 5 whole: runs of 64 and of 1.
  SnapshotEntries ips;
  for (std::size_t i = 0; i < 6 * kChunk; ++i) {
    const bool whole = i < kChunk || i >= 5 * kChunk;
    ips.push_back(entry(i, whole || i % kChunk == 7));
  }
  const Schedule s = Schedule::build(ips, false);
  const std::vector<std::uint32_t> all = s.to_vector();
  ASSERT_EQ(all.size(), 2 * kChunk + 4);
  for (std::size_t p = 0; p < all.size(); ++p)
    ASSERT_EQ(s[p], all[p]) << "position " << p;
  EXPECT_EQ(all[kChunk], kChunk + 7);
}

TEST(ScheduleTest, weights_give_exact_shares_spread_over_the_rounds) {
  SnapshotEntries ips;
  ips.push_back(entry(0, true, 1.0, 5));
  ips.push_back(entry(1, true, 1.0, 1));
  ips.push_back(entry(2, true, 1.0, 1));
  // nginx's smooth WRR gives a a b a c a a for 5:1:1; five rounds of a, b and c in the middle.
  EXPECT_THAT(Schedule::build(ips, true).to_vector(), ::testing::ElementsAre(0, 0, 0, 1, 2, 0, 0));
  EXPECT_THAT(Schedule::build(ips, false).to_vector(), ::testing::ElementsAre(0, 1, 2));

  const SnapshotEntries big = pool(1000);  // weights 1, 2, 3 over 16 chunks
  const std::vector<std::uint32_t> all = Schedule::build(big, true).to_vector();
  std::map<std::uint32_t, int> count;
  for (auto i : all)
    ++count[i];
  for (std::uint32_t i = 0; i < 1000; ++i)
    EXPECT_EQ(count[i], i % 7 == 3 ? 0 : static_cast<int>(1 + i % 3)) << "IP " << i;
  // A weight-3 IP is spread over the cycle, not bunched in its chunk's stretch of it.
  std::vector<std::size_t> at;
  for (std::size_t p = 0; p < all.size(); ++p) {
    if (all[p] == 2)
      at.push_back(p);
  }
  ASSERT_EQ(at.size(), 3U);
  EXPECT_GT(at[1] - at[0], all.size() / 4);
  EXPECT_GT(at[2] - at[1], all.size() / 4);
}

TEST(ScheduleTest, a_change_in_one_chunk_builds_one_piece_and_matches_a_fresh_build) {
  for (const bool use_weight : {false, true}) {
    const SnapshotEntries a = pool(300);
    const Schedule sa = Schedule::build(a, use_weight);
    EXPECT_EQ(sa.pieces_built(), 5U);
    // IP 130 out of traffic, then back: chunk 2 each time.
    const SnapshotEntries b = with(a, 130, entry(130, false));
    const Schedule sb = Schedule::build(b, use_weight, &a, &sa);
    EXPECT_EQ(sb.pieces_built(), 1U);
    EXPECT_EQ(sb.to_vector(), Schedule::build(b, use_weight).to_vector());
    EXPECT_EQ(sb.size() + 1 + (use_weight ? 130 % 3 : 0), sa.size());
    const SnapshotEntries c = with(b, 130, entry(130, true, 1.0, 2));
    const Schedule sc = Schedule::build(c, use_weight, &b, &sb);
    EXPECT_EQ(sc.pieces_built(), 1U);
    EXPECT_EQ(sc.to_vector(), Schedule::build(c, use_weight).to_vector());
    EXPECT_EQ(Schedule::build(c, use_weight, &c, &sc).pieces_built(), 0U) << "nothing changed";
  }
}

TEST(ScheduleTest, a_new_pool_wide_scale_builds_every_piece) {
  const SnapshotEntries a = pool(300);
  const Schedule sa = Schedule::build(a, true);
  // The first IP on probation (share 0.1): every healthy IP now takes 10 positions.
  const SnapshotEntries b = with(a, 10, entry(10, true, 0.1));
  const Schedule sb = Schedule::build(b, true, &a, &sa);
  EXPECT_EQ(sb.pieces_built(), 5U);
  EXPECT_EQ(sb.to_vector(), Schedule::build(b, true).to_vector());
  const std::vector<std::uint32_t> all = sb.to_vector();
  EXPECT_EQ(std::count(all.begin(), all.end(), 10U), 1);
  EXPECT_EQ(std::count(all.begin(), all.end(), 11U), 30);  // weight 3
  // The other policy family (weights ignored) builds everything too.
  EXPECT_EQ(Schedule::build(b, false, &b, &sb).pieces_built(), 5U);
}

TEST(ScheduleTest, a_heavy_pool_stays_under_the_position_cap_in_proportion) {
  SnapshotEntries ips;
  for (std::size_t i = 0; i < 100; ++i)
    ips.push_back(entry(i, true, 1.0, i == 0 ? 2000 : 1000));
  const std::vector<std::uint32_t> all = Schedule::build(ips, true).to_vector();
  EXPECT_LE(all.size(), 65536U);
  const auto first = std::count(all.begin(), all.end(), 0U);
  EXPECT_EQ(first, 2 * std::count(all.begin(), all.end(), 1U));
}

TEST(ScheduleTest, the_selector_builds_only_the_changed_chunk_on_publish) {
  ipm::pool::Selector sel(ipm::config::Selection::least_conn);
  ipm::pool::Snapshot s;
  s.ips = pool(300);
  const SnapshotEntries first = s.ips;
  sel.publish(s);
  EXPECT_EQ(sel.snapshot()->schedule.pieces_built(), 5U);
  s.ips = with(first, 200, entry(200, false));
  sel.publish(s);
  EXPECT_EQ(sel.snapshot()->schedule.pieces_built(), 1U);
  for (int k = 0; k < 1000; ++k)
    ASSERT_NE(sel.pick()->index(), 200U);
}

}  // namespace
