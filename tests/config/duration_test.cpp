#include "config/duration.hpp"

#include <gtest/gtest.h>

namespace {

using ipm::config::format_duration;
using ipm::config::Millis;
using ipm::config::parse_duration;
using namespace std::chrono_literals;

std::optional<Millis> parse(std::string_view text, Millis unit = 1s) {
  std::string why;
  return parse_duration(text, unit, why);
}

TEST(DurationTest, reads_every_unit) {
  EXPECT_EQ(parse("250ms"), Millis(250));
  EXPECT_EQ(parse("5s"), Millis(5000));
  EXPECT_EQ(parse("2m"), Millis(120'000));
  EXPECT_EQ(parse("1h"), Millis(3'600'000));
  EXPECT_EQ(parse("1h30m"), Millis(5'400'000));
  EXPECT_EQ(parse("1.5s"), Millis(1500));
  EXPECT_EQ(parse(" 3s "), Millis(3000));
}

TEST(DurationTest, bare_number_is_in_the_keys_unit) {
  EXPECT_EQ(parse("10", std::chrono::minutes(1)), Millis(600'000));
  EXPECT_EQ(parse("15", 1s), Millis(15'000));
  EXPECT_EQ(parse("0", 1s), Millis(0));
}

TEST(DurationTest, rejects_garbage_with_a_reason) {
  for (std::string_view bad : {"", "-5s", "5 parsecs", "s", "5x", "1h30", "..", "5s-"}) {
    std::string why;
    EXPECT_FALSE(parse_duration(bad, 1s, why).has_value()) << bad;
    EXPECT_FALSE(why.empty()) << bad;
  }
  std::string why;
  parse_duration("-5s", 1s, why);
  EXPECT_NE(why.find("negative"), std::string::npos);
}

TEST(DurationTest, formats_exactly) {
  EXPECT_EQ(format_duration(Millis(0)), "0s");
  EXPECT_EQ(format_duration(Millis(250)), "250ms");
  EXPECT_EQ(format_duration(Millis(90'000)), "1m30s");
  EXPECT_EQ(format_duration(Millis(3'600'000)), "1h");
  EXPECT_EQ(format_duration(Millis(3'661'001)), "1h1m1s1ms");
}

TEST(DurationTest, format_then_parse_round_trips) {
  for (long long ms : {1LL, 999LL, 1000LL, 59'999LL, 3'600'000LL, 86'400'123LL}) {
    EXPECT_EQ(parse(format_duration(Millis(ms))), Millis(ms)) << ms;
  }
}

}  // namespace
