#include "app/descriptor_limit.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/resource.h>

namespace ipm::app {
namespace {

using testing::HasSubstr;

TEST(DescriptorLimitTest, the_soft_limit_is_raised_to_the_hard_one) {
  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
  rlimit low = saved;
  low.rlim_cur = std::min<rlim_t>(saved.rlim_max, 512);
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);

  const DescriptorLimit l = raise_descriptor_limit();
  rlimit now{};
  ::getrlimit(RLIMIT_NOFILE, &now);
  ::setrlimit(RLIMIT_NOFILE, &saved);
  EXPECT_TRUE(l.error.empty()) << l.error;
  EXPECT_EQ(l.before, low.rlim_cur);
  EXPECT_EQ(l.soft, now.rlim_cur);
  EXPECT_EQ(now.rlim_cur, saved.rlim_max);
  if (l.before != l.soft) {
    EXPECT_THAT(describe(l), HasSubstr("raised from 512 to the hard limit"));
  }
}

TEST(DescriptorLimitTest, the_reserve_covers_the_probe_and_the_logs_and_shrinks_with_the_limit) {
  config::Config c;
  c.probe_max_connections = 256;
  c.probe_max_event_streams = 32;
  // 32 for the process, 2 per followed log, the probe's listener, connections and streams.
  EXPECT_EQ(descriptors_besides_the_proxy(c, 1, 524288), 32U + 2 + 289);
  EXPECT_EQ(descriptors_besides_the_proxy(c, 300, 524288), 32U + 600 + 289);
  // A low limit: the probe gets an eighth of it (at least 8), the proxy keeps the rest.
  EXPECT_EQ(descriptors_besides_the_proxy(c, 1, 1024), 32U + 2 + 128);
  EXPECT_EQ(descriptors_besides_the_proxy(c, 1, 96), 32U + 2 + 12);
  EXPECT_EQ(descriptors_besides_the_proxy(c, 1, 32), 32U + 2 + 8);
  c.probe_max_connections = 4;
  c.probe_max_event_streams = 1;
  EXPECT_EQ(descriptors_besides_the_proxy(c, 1, 96), 32U + 2 + 6);
}

}  // namespace
}  // namespace ipm::app
