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

TEST_F(PoolEgressSourceTest, a_target_is_grouped_into_its_site_and_skips_the_ips_out_for_it) {
  const auto banned = engine_.update([](strategy::Engine& e) {
    return e.ban_site("127.0.1.1", "a.example", pool::TimePoint::max(), "operator", {});
  });
  ASSERT_EQ(banned, strategy::SiteCommand::done);
  pool::Request request = pool::kNginxRequest;
  for (const std::string_view target : {"www.a.example", "A.EXAMPLE:443", "x.y.a.example"}) {
    request.target = target;
    for (int i = 0; i < 50; ++i) {
      const auto e = source_.pick(request, {});
      ASSERT_TRUE(e);
      EXPECT_EQ(e->ip, "127.0.1.2") << target << " is a.example, which 127.0.1.1 is out for";
      source_.abandoned(*e);
    }
  }
  // Another site, no target and a host-less front end's destination all use both IPs.
  int first_for_other = 0;
  request.target = "b.example";
  for (int i = 0; i < 50; ++i) {
    const auto e = source_.pick(request, {});
    ASSERT_TRUE(e);
    first_for_other += e->ip == "127.0.1.1" ? 1 : 0;
    source_.abandoned(*e);
  }
  EXPECT_GT(first_for_other, 0);
  int first_without = 0;
  for (int i = 0; i < 50; ++i) {
    const auto e = source_.pick(pool::kNginxRequest, {});
    ASSERT_TRUE(e);
    first_without += e->ip == "127.0.1.1" ? 1 : 0;
    source_.abandoned(*e);
  }
  EXPECT_GT(first_without, 0);
  // The only IP left for a.example failed to dial: the site falls back to the pool rather
  // than to nothing (the per-site cap keeps that rare).
  request.target = "a.example";
  const pool::Egress tried[] = {pool::Egress{"127.0.1.2", 19002, {}, 1}};
  const auto fallback = source_.pick(request, tried);
  ASSERT_TRUE(fallback);
  EXPECT_EQ(fallback->ip, "127.0.1.1");
  source_.abandoned(*fallback);
}

}  // namespace
}  // namespace ipm::app
