#include "pool/snapshot_entries.hpp"

#include <algorithm>
#include <memory>
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

namespace {

using ipm::pool::SnapshotEntries;
using ipm::pool::SnapshotEntry;

constexpr std::size_t kChunk = SnapshotEntries::kChunk;

SnapshotEntry entry(std::size_t i) {
  SnapshotEntry e;
  e.egress.ip = "10.0.0." + std::to_string(i);
  e.selectable = i % 2 == 0;
  return e;
}

TEST(SnapshotEntriesTest, entries_pushed_one_by_one_read_back_in_order_across_chunks) {
  SnapshotEntries s;
  EXPECT_TRUE(s.empty());
  for (std::size_t i = 0; i < 2 * kChunk + 3; ++i)
    s.push_back(entry(i));
  ASSERT_EQ(s.size(), 2 * kChunk + 3);
  EXPECT_EQ(s.chunk_count(), 3U);
  for (std::size_t i = 0; i < s.size(); ++i)
    EXPECT_EQ(s[i].egress.ip, "10.0.0." + std::to_string(i));
  std::size_t n = 0;
  for (const auto& e : s)
    EXPECT_EQ(e.egress.ip, "10.0.0." + std::to_string(n++));
  EXPECT_EQ(n, s.size());
  EXPECT_EQ(std::count_if(s.begin(), s.end(), [](const SnapshotEntry& e) { return e.selectable; }),
            kChunk + 2);
}

TEST(SnapshotEntriesTest, a_copy_shares_chunks_and_a_push_never_changes_the_other) {
  SnapshotEntries a;
  for (std::size_t i = 0; i < kChunk + 1; ++i)
    a.push_back(entry(i));
  SnapshotEntries b = a;
  EXPECT_EQ(a.chunk(0), b.chunk(0));
  b.push_back(entry(99));
  EXPECT_EQ(a.size(), kChunk + 1);
  EXPECT_EQ(b.size(), kChunk + 2);
  EXPECT_EQ(a.chunk(0), b.chunk(0)) << "full chunks stay shared";
  EXPECT_NE(a.chunk(1), b.chunk(1)) << "the short one was copied, not written";
  EXPECT_EQ(a.chunk(1)->size(), 1U);
}

TEST(SnapshotEntriesTest, only_the_last_chunk_may_be_short) {
  SnapshotEntries s;
  s.push_chunk(std::make_shared<SnapshotEntries::Chunk>(3, entry(0)));
  EXPECT_THROW(s.push_chunk(std::make_shared<SnapshotEntries::Chunk>(1, entry(1))),
               std::logic_error);
  SnapshotEntries t;
  EXPECT_THROW(t.push_chunk(std::make_shared<SnapshotEntries::Chunk>(kChunk + 1, entry(0))),
               std::logic_error);
}

}  // namespace
