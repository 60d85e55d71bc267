#include "pool/interner.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

// The interner stays bounded and, swept by its owner, keeps accepting new strings.

namespace {

using ipm::pool::Interner;

TEST(InternerTest, full_interner_folds_new_strings_into_other) {
  Interner in(4);  // "", "(other)" and two more
  const auto a = in.intern("a");
  const auto b = in.intern("b");
  EXPECT_EQ(in.intern("a"), a);
  EXPECT_EQ(in.intern("c"), Interner::kOverflow);
  EXPECT_EQ(in.overflowed(), 1U);
  EXPECT_EQ(in.lookup(b), "b");
  EXPECT_EQ(in.find("c"), Interner::kOverflow);
  EXPECT_EQ(in.find("b"), b);
}

TEST(InternerTest, reclaim_frees_what_is_not_live_and_reuses_the_ids) {
  Interner in(4);
  const auto a = in.intern("a");
  const auto b = in.intern("b");
  ASSERT_TRUE(in.reclaim_due());
  std::vector<bool> live(in.id_bound(), false);
  live[b] = true;
  EXPECT_EQ(in.reclaim(live), 1U);
  EXPECT_EQ(in.lookup(a), "");
  EXPECT_EQ(in.find("a"), Interner::kOverflow);
  EXPECT_EQ(in.lookup(b), "b");
  EXPECT_EQ(in.lookup(Interner::kOverflow), "(other)") << "the reserved ids stay";
  const auto c = in.intern("c");
  EXPECT_EQ(c, a) << "a freed id is reused";
  EXPECT_EQ(in.lookup(c), "c");
  EXPECT_EQ(in.id_bound(), 4U);
  EXPECT_EQ(in.reclaimed(), 1U);
}

TEST(InternerTest, sweeps_are_amortized) {
  Interner in(32);
  for (int i = 0; i < 30; ++i)
    in.intern("s" + std::to_string(i));
  std::vector<bool> live(in.id_bound(), true);
  in.reclaim(live);  // nothing free: full again at once
  EXPECT_FALSE(in.reclaim_due()) << "no sweep before max_distinct / 16 strings are turned away";
  in.intern("x1");
  EXPECT_TRUE(in.reclaim_due() == false);
  in.intern("x2");
  EXPECT_TRUE(in.reclaim_due());
}

TEST(InternerTest, long_strings_are_truncated_alike) {
  Interner in(8);
  const std::string long1(400, 'x');
  const std::string long2 = std::string(Interner::kMaxLength, 'x') + "different tail";
  EXPECT_EQ(in.intern(long1), in.intern(long2));
  EXPECT_EQ(in.lookup(in.intern(long1)).size(), Interner::kMaxLength);
}

}  // namespace
