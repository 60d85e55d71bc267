#include "pool/history_tally.hpp"

#include <map>
#include <random>

#include <gtest/gtest.h>

namespace {

using ipm::pool::HistoryEntry;
using ipm::pool::HistoryRing;
using ipm::pool::HistoryTally;
using Counts = std::map<std::pair<std::uint16_t, std::uint32_t>, std::uint32_t>;

Counts tallied(const HistoryTally& t) {
  Counts out;
  t.for_each([&](std::uint16_t status, std::uint32_t target, std::uint32_t n) {
    EXPECT_GT(n, 0U);
    EXPECT_TRUE(out.emplace(std::pair{status, target}, n).second) << "pair listed twice";
  });
  return out;
}

// The counts by walking the ring, as the scrape did before the tally; by status alone
// (target kEmpty) when targets are not counted.
Counts walked(const HistoryRing& ring, bool by_target = true) {
  Counts out;
  ring.for_each([&](const HistoryEntry& e) {
    ++out[{e.status, by_target ? e.target : ipm::pool::Interner::kEmpty}];
  });
  return out;
}

HistoryEntry entry(std::uint16_t status, std::uint32_t target) {
  HistoryEntry e;
  e.status = status;
  e.target = target;
  return e;
}

TEST(HistoryTallyTest, overwritten_entries_leave_the_counts) {
  HistoryRing ring(3);
  HistoryTally tally;
  tally.push(ring, entry(200, 5));
  tally.push(ring, entry(200, 5));
  tally.push(ring, entry(404, 6));
  EXPECT_EQ(tallied(tally), (Counts{{{200, 5}, 2}, {{404, 6}, 1}}));
  tally.push(ring, entry(429, 5));  // overwrites the first 200/5
  tally.push(ring, entry(429, 5));  // overwrites the second: 200/5 is gone
  EXPECT_EQ(tallied(tally), (Counts{{{404, 6}, 1}, {{429, 5}, 2}}));
  EXPECT_EQ(tally.size(), 2U);
}

TEST(HistoryTallyTest, a_ring_that_keeps_nothing_counts_nothing) {
  HistoryRing ring(0);
  HistoryTally tally;
  tally.push(ring, entry(200, 1));
  EXPECT_EQ(tally.size(), 0U);
  EXPECT_EQ(ring.pushed(), 1U);  // as a direct push would count it
}

TEST(HistoryTallyTest, always_equals_the_walk_of_the_ring) {
  std::mt19937 random(11);
  for (const std::size_t capacity : {1, 2, 7, 100}) {
    HistoryRing ring(capacity);
    HistoryTally tally;
    std::uniform_int_distribution<int> status(0, 3);
    std::uniform_int_distribution<std::uint32_t> target(0, 9);
    for (int i = 0; i < 2'000; ++i) {
      tally.push(ring,
                 entry(static_cast<std::uint16_t>(200 + 100 * status(random)), target(random)));
      if (i % 97 == 0 || i == 1'999) {
        ASSERT_EQ(tallied(tally), walked(ring)) << "capacity " << capacity << ", push " << i;
      }
    }
  }
}

// Many distinct pairs: the table grows, and removals shift long probe runs back.
TEST(HistoryTallyTest, equals_the_walk_with_many_pairs_coming_and_going) {
  std::mt19937 random(5);
  HistoryRing ring(1000);
  HistoryTally tally;
  for (int i = 0; i < 20'000; ++i) {
    // Phases of few and of many distinct targets, so runs form and empty again.
    const std::uint32_t targets = (i / 2'500) % 2 == 0 ? 3000 : 4;
    tally.push(ring, entry(static_cast<std::uint16_t>(200 + random() % 400),
                           static_cast<std::uint32_t>(random() % targets)));
    if (i % 499 == 0 || i == 19'999) {
      const Counts walk = walked(ring);
      ASSERT_EQ(tallied(tally), walk) << "push " << i;
      ASSERT_EQ(tally.size(), walk.size());
    }
  }
}

TEST(HistoryTallyTest, without_targets_it_counts_by_status_and_a_switch_recounts_the_ring) {
  std::mt19937 random(17);
  HistoryRing ring(50);
  HistoryTally tally;
  tally.count_targets(false, ring);
  EXPECT_FALSE(tally.counts_targets());
  for (int i = 0; i < 3'000; ++i) {
    tally.push(ring, entry(static_cast<std::uint16_t>(200 + 100 * (random() % 4)),
                           static_cast<std::uint32_t>(random() % 20)));
    if (i % 101 == 0) {
      ASSERT_EQ(tallied(tally), walked(ring, false)) << "push " << i;
    }
  }
  EXPECT_LE(tally.size(), 4U);      // one pair per status
  tally.count_targets(true, ring);  // a reload adds the target label
  EXPECT_EQ(tallied(tally), walked(ring, true));
  for (int i = 0; i < 500; ++i)
    tally.push(ring, entry(static_cast<std::uint16_t>(200 + 100 * (random() % 4)),
                           static_cast<std::uint32_t>(random() % 20)));
  EXPECT_EQ(tallied(tally), walked(ring, true));
  tally.count_targets(false, ring);  // and removes it again
  EXPECT_EQ(tallied(tally), walked(ring, false));
}

}  // namespace
