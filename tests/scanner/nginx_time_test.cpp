#include "scanner/nginx_time.hpp"

#include <gtest/gtest.h>

namespace ipm::scanner {
namespace {

using std::chrono::seconds;

pool::TimePoint at(long long unix_seconds) {
  return pool::TimePoint(seconds(unix_seconds));
}

TEST(NginxTimeTest, time_local_with_zone) {
  // 2026-11-22T02:48:14Z
  const long long t = days_from_civil(2026, 11, 22) * 86400 + 2 * 3600 + 48 * 60 + 14;
  EXPECT_EQ(parse_time_local("22/Nov/2026:02:48:14 +0000"), at(t));
  EXPECT_EQ(parse_time_local("22/Nov/2026:04:48:14 +0200"), at(t));
  EXPECT_EQ(parse_time_local("21/Nov/2026:21:18:14 -0530"), at(t));
  EXPECT_EQ(parse_time_local("29/Feb/2024:00:00:00 +0000"),
            at(days_from_civil(2024, 2, 29) * 86400));
}

TEST(NginxTimeTest, time_local_rejects_impossible_values) {
  EXPECT_FALSE(parse_time_local("30/Feb/2024:00:00:00 +0000"));
  EXPECT_FALSE(parse_time_local("22/Nox/2026:02:48:14 +0000"));
  EXPECT_FALSE(parse_time_local("22/Nov/2026:24:48:14 +0000"));
  EXPECT_FALSE(parse_time_local("22/Nov/2026:02:48:14 +00"));
  EXPECT_FALSE(parse_time_local("22/Nov/2026:02:48:14 *0000"));
  EXPECT_FALSE(parse_time_local("2a/Nov/2026:02:48:14 +0000"));
  EXPECT_FALSE(parse_time_local(""));
  // Beyond what a nanosecond time point holds: refused, not overflowed.
  EXPECT_FALSE(parse_time_local("01/Jan/2300:00:00:00 +0000"));
  EXPECT_FALSE(parse_time_local("01/Jan/1969:00:00:00 +0000"));
}

TEST(NginxTimeTest, iso8601_forms) {
  const long long t = days_from_civil(2026, 11, 22) * 86400 + 2 * 3600 + 48 * 60 + 14;
  EXPECT_EQ(parse_time_iso8601("2026-11-22T02:48:14+00:00"), at(t));
  EXPECT_EQ(parse_time_iso8601("2026-11-22T03:48:14+01:00"), at(t));
  EXPECT_EQ(parse_time_iso8601("2026-11-22T02:48:14Z"), at(t));
  EXPECT_EQ(parse_time_iso8601("2026-11-22T02:48:14.500Z"), at(t) + std::chrono::milliseconds(500));
  EXPECT_FALSE(parse_time_iso8601("2026-11-22 02:48:14+00:00"));
  EXPECT_FALSE(parse_time_iso8601("2026-11-22T02:48:14+00:00x"));
  EXPECT_FALSE(parse_time_iso8601("2026-13-22T02:48:14Z"));
}

TEST(NginxTimeTest, msec) {
  EXPECT_EQ(parse_msec("1795315694.123"), at(1795315694) + std::chrono::milliseconds(123));
  EXPECT_EQ(parse_msec("1795315694"), at(1795315694));
  EXPECT_FALSE(parse_msec("1795315694.12"));
  EXPECT_FALSE(parse_msec("-1"));
  EXPECT_FALSE(parse_msec("9999999999.000"));
  EXPECT_FALSE(parse_msec(""));
}

}  // namespace
}  // namespace ipm::scanner
