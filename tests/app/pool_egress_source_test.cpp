#include "app/pool_egress_source.hpp"

#include <gtest/gtest.h>

#include "config/config.hpp"
#include "pool/selector.hpp"
#include "strategy/shared_engine.hpp"

namespace ipm::app {
namespace {

class PoolEgressSourceTest : public ::testing::Test {
 protected:
  PoolEgressSourceTest()
      : engine_(config_, selector_,
                {pool::Egress{"127.0.1.1", 19001, {}, 1}, pool::Egress{"127.0.1.2", 19002, {}, 1}},
                pool::TimePoint{}),
        source_(selector_, engine_) {}

  config::Config config_;
  pool::Selector selector_{config::Selection::least_conn};
  strategy::SharedEngine engine_;
  PoolEgressSource source_;
};

TEST_F(PoolEgressSourceTest, every_pick_is_released_by_its_outcome_or_by_abandoned) {
  const auto a = source_.pick(pool::kNginxRequest, {});
  const auto b = source_.pick(pool::kNginxRequest, {});
  const auto c = source_.pick(pool::kNginxRequest, {});
  ASSERT_TRUE(a && b && c);
  EXPECT_EQ(source_.leases(), 3U);

  pool::DialOutcome refused{a->ip, a->port, pool::TimePoint{}, pool::DialResult::refused, {}};
  source_.report(refused);
  EXPECT_EQ(source_.leases(), 2U) << "a failed dial releases its pick";

  source_.abandoned(*b);  // the client left, or the proxy had no descriptor to dial with
  EXPECT_EQ(source_.leases(), 1U) << "an abandoned pick is released too";

  pool::DialOutcome ok{c->ip, c->port, pool::TimePoint{}, pool::DialResult::ok, {}};
  source_.report(ok);
  source_.opened(*c);
  EXPECT_EQ(source_.leases(), 1U) << "open: still counted by least_conn";
  source_.closed(*c);
  EXPECT_EQ(source_.leases(), 0U);
}

}  // namespace
}  // namespace ipm::app
