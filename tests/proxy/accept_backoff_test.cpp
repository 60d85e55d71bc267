#include "proxy/accept_backoff.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace ipm::proxy::test {
namespace {

using namespace std::chrono_literals;
using Clock = AcceptBackoff::Clock;

TEST(AcceptBackoffTest, waits_double_up_to_the_cap_within_an_episode) {
  AcceptBackoff b;
  const Clock::time_point t0{};
  std::vector<long long> waits;
  for (int i = 0; i < 10; ++i)
    waits.push_back(b.failed(t0 + i * 1s).count());
  EXPECT_EQ(waits, (std::vector<long long>{10, 20, 40, 80, 160, 320, 640, 1000, 1000, 1000}));
}

TEST(AcceptBackoffTest, an_episode_starts_once_and_ends_when_the_backlog_drains) {
  AcceptBackoff b;
  const Clock::time_point t0{};
  EXPECT_FALSE(b.in_episode());
  EXPECT_FALSE(b.drained(t0).has_value()) << "no failure: nothing to report";

  b.failed(t0);
  EXPECT_TRUE(b.episode_started());
  b.failed(t0 + 10ms);
  EXPECT_FALSE(b.episode_started()) << "logged once per episode, not per failure";
  b.failed(t0 + 30ms);
  const auto episode = b.drained(t0 + 2s);
  ASSERT_TRUE(episode.has_value());
  EXPECT_EQ(episode->failures, 3U);
  EXPECT_EQ(episode->lasted, 2s);
  EXPECT_FALSE(b.in_episode());

  EXPECT_EQ(b.failed(t0 + 5s), AcceptBackoff::kFirst) << "the next episode starts short";
  EXPECT_TRUE(b.episode_started());
}

}  // namespace
}  // namespace ipm::proxy::test
