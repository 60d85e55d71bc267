#include "pool/bounded_ring.hpp"

#include <vector>

#include <gtest/gtest.h>

#include "pool/history.hpp"
#include "pool/interner.hpp"

namespace {

using ipm::pool::BoundedRing;
using ipm::pool::Interner;

std::vector<int> contents(const BoundedRing<int>& r) {
  std::vector<int> out;
  r.for_each([&out](int v) { out.push_back(v); });
  return out;
}

TEST(BoundedRingTest, keeps_the_newest_values_oldest_first) {
  BoundedRing<int> r(3);
  EXPECT_TRUE(r.empty());
  for (int i = 1; i <= 5; ++i)
    r.push(i);
  EXPECT_EQ(contents(r), (std::vector<int>{3, 4, 5}));
  EXPECT_EQ(r.newest(), 5);
  EXPECT_EQ(r[0], 3);
  EXPECT_EQ(r.pushed(), 5U);
}

TEST(BoundedRingTest, shrinking_keeps_the_newest_and_growing_keeps_all) {
  BoundedRing<int> r(4);
  for (int i = 1; i <= 6; ++i)
    r.push(i);
  r.set_capacity(2);
  EXPECT_EQ(contents(r), (std::vector<int>{5, 6}));
  r.set_capacity(3);
  r.push(7);
  r.push(8);
  EXPECT_EQ(contents(r), (std::vector<int>{6, 7, 8}));
}

TEST(BoundedRingTest, a_ring_across_blocks_keeps_order_through_wraps_and_resizes) {
  constexpr std::size_t kCapacity = 2 * BoundedRing<int>::kBlock + 22;
  BoundedRing<int> r(kCapacity);
  std::vector<int> expected;
  for (int i = 0; i < 5 * static_cast<int>(kCapacity) + 7; ++i) {
    r.push(i);
    expected.push_back(i);
    if (expected.size() > kCapacity)
      expected.erase(expected.begin());
    ASSERT_EQ(r.newest(), i);
    ASSERT_EQ(r[0], expected.front());
    ASSERT_EQ(r.oldest(), expected.front());
  }
  EXPECT_EQ(contents(r), expected);
  const BoundedRing<int> copy = r;
  EXPECT_EQ(contents(copy), expected);
  r.set_capacity(BoundedRing<int>::kBlock + 1);  // shrinks across a block boundary
  expected.erase(expected.begin(), expected.end() - (BoundedRing<int>::kBlock + 1));
  EXPECT_EQ(contents(r), expected);
  EXPECT_EQ(contents(copy).size(), kCapacity);  // the copy is its own
}

TEST(BoundedRingTest, a_moved_or_copied_ring_goes_on_where_the_original_stopped) {
  // The ring writes through a pointer to its current block: a copy must point into its own
  // blocks, a move keeps the blocks, and the moved-from ring is empty and usable.
  constexpr std::size_t kCapacity = BoundedRing<int>::kBlock + 10;
  BoundedRing<int> r(kCapacity);
  std::vector<int> expected;
  for (int i = 0; i < 150; ++i) {
    r.push(i);
    expected.push_back(i);
  }
  expected.erase(expected.begin(), expected.end() - kCapacity);
  BoundedRing<int> copy = r;
  BoundedRing<int> moved = std::move(r);
  for (int i = 150; i < 300; ++i) {
    copy.push(i);
    moved.push(-i);
  }
  ASSERT_EQ(copy.size(), kCapacity);
  EXPECT_EQ(copy.oldest(), 300 - static_cast<int>(kCapacity));
  EXPECT_EQ(copy.newest(), 299);
  EXPECT_EQ(moved.oldest(), -(300 - static_cast<int>(kCapacity)));
  EXPECT_EQ(moved.newest(), -299);
  EXPECT_TRUE(r.empty());  // NOLINT(bugprone-use-after-move): moved-from is documented empty
  r.push(7);
  EXPECT_EQ(contents(r), (std::vector<int>{7}));
  r = copy;
  EXPECT_EQ(contents(r), contents(copy));
}

TEST(BoundedRingTest, storage_grows_by_blocks_up_to_the_capacity_not_past_it) {
  constexpr std::size_t kBlock = BoundedRing<int>::kBlock;
  BoundedRing<int> r(1000);
  EXPECT_EQ(r.allocated(), 0U);
  r.push(1);
  EXPECT_EQ(r.allocated(), 1U) << "a ring of one value costs one value, not a block";
  for (std::size_t i = 1; i < kBlock + 1; ++i)
    r.push(1);
  EXPECT_EQ(r.allocated(), 2 * kBlock);
  for (int i = 0; i < 5000; ++i)
    r.push(1);
  EXPECT_EQ(r.allocated(), 1000U);  // the last block is cut to the capacity: no 1,024
}

TEST(BoundedRingTest, zero_capacity_holds_nothing) {
  BoundedRing<int> r(0);
  r.push(1);
  EXPECT_TRUE(r.empty());
  EXPECT_EQ(r.pushed(), 1U);
}

TEST(InternerTest, same_string_same_id_and_views_stay_valid) {
  Interner in(1000);
  const auto a = in.intern("alpha");
  const auto empty = in.intern("");
  EXPECT_EQ(empty, Interner::kEmpty);
  const std::string_view view = in.lookup(a);
  for (int i = 0; i < 500; ++i)
    in.intern("k" + std::to_string(i));
  EXPECT_EQ(in.intern("alpha"), a);
  EXPECT_EQ(view, "alpha");  // storage did not move
  EXPECT_EQ(in.lookup(999999), "");
}

TEST(InternerTest, growth_is_bounded_and_long_strings_truncated) {
  Interner in(10);
  for (int i = 0; i < 100; ++i)
    in.intern("key" + std::to_string(i));
  EXPECT_EQ(in.size(), 10U);
  EXPECT_EQ(in.intern("another"), Interner::kOverflow);
  EXPECT_EQ(in.lookup(Interner::kOverflow), "(other)");
  EXPECT_EQ(in.overflowed(), 92U + 1U);
  Interner wide(100);
  const auto id = wide.intern(std::string(10000, 'x'));
  EXPECT_EQ(wide.lookup(id).size(), Interner::kMaxLength);
}

}  // namespace
