#include "pool/bounded_ring.hpp"

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
