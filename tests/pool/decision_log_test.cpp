#include "pool/decision_log.hpp"

#include <thread>

#include <gtest/gtest.h>

namespace {

using ipm::pool::Decision;
using ipm::pool::DecisionLog;

Decision decision(std::uint32_t tries) {
  Decision d;
  d.tries = tries;
  return d;
}

TEST(DecisionLogTest, keeps_the_newest_and_returns_them_newest_first) {
  DecisionLog log(3);
  for (std::uint32_t i = 1; i <= 5; ++i)
    log.record(decision(i));
  const auto latest = log.latest(10);
  ASSERT_EQ(latest.size(), 3U);
  EXPECT_EQ(latest[0].tries, 5U);
  EXPECT_EQ(latest[2].tries, 3U);
  EXPECT_EQ(log.latest(1).at(0).tries, 5U);
  EXPECT_EQ(log.total(), 5U);
}

TEST(DecisionLogTest, concurrent_writers_lose_nothing_from_the_count) {
  DecisionLog log(100);
  std::vector<std::jthread> writers;
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&log] {
      for (std::uint32_t i = 0; i < 1000; ++i)
        log.record(decision(i));
    });
  }
  writers.clear();
  EXPECT_EQ(log.total(), 4000U);
  EXPECT_EQ(log.latest(1000).size(), 100U);
}

TEST(DecisionLogTest, end_names_are_stable) {
  EXPECT_EQ(ipm::pool::to_string(ipm::pool::ConnectionEnd::dial_failed), "dial_failed");
  EXPECT_EQ(ipm::pool::to_string(ipm::pool::ConnectionEnd::idle_timeout), "idle_timeout");
}

}  // namespace
