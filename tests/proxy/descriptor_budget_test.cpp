#include "proxy/descriptor_budget.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace ipm::proxy::test {
namespace {

using testing::HasSubstr;

TEST(DescriptorBudgetTest, the_cap_is_what_the_limit_holds_after_the_reserve) {
  struct Case {
    std::uint64_t limit, reserved;
    std::uint32_t workers;
    bool splice;
    std::uint32_t configured, expected;
  };
  const Case cases[] = {
      // A generous limit: max_connections decides.
      {524288, 300, 2, false, 10000, 10000},
      // Two descriptors per connection, 4 per worker: (20000 - 300 - 8) / 2.
      {20000, 300, 2, false, 10000, 9846},
      // Splicing: up to two pipes per connection (6 descriptors) and 8 idle pipes per worker.
      {20000, 300, 2, true, 10000, (20000 - 300 - 2 * 20) / 6},
      // The set-up: prlimit --nofile=96:96, one worker.
      {96, 52, 1, false, 10000, 20},
      // The reserve takes everything: still one connection, which then waits for descriptors.
      {64, 100, 1, false, 10000, 1},
      {0, 0, 0, false, 0, 1},
  };
  for (const Case& c : cases) {
    const DescriptorBudget b =
        plan_descriptors(c.limit, c.reserved, c.workers, c.splice, c.configured);
    EXPECT_EQ(b.max_connections, c.expected) << "limit " << c.limit << " reserved " << c.reserved;
    EXPECT_EQ(b.limited_by_descriptors(), c.expected < c.configured);
  }
}

TEST(DescriptorBudgetTest, the_log_line_says_what_sets_the_cap) {
  EXPECT_THAT(describe(plan_descriptors(524288, 300, 2, false, 10000)),
              HasSubstr("10000 connections at once (max_connections)"));
  const std::string low = describe(plan_descriptors(96, 52, 1, false, 10000));
  EXPECT_THAT(low, HasSubstr("20 connections at once (max_connections 10000 does not fit"));
  EXPECT_THAT(low, HasSubstr("limit 96, 52 kept for the probe"));
}

}  // namespace
}  // namespace ipm::proxy::test
