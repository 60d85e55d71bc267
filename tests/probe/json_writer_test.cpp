#include "probe/json_writer.hpp"

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>

#include "probe/target.hpp"

namespace {

using ipm::pool::TimePoint;

std::string str(std::string_view s) {
  std::string out;
  ipm::probe::append_json_string(out, s);
  return out;
}

std::string time_ns(std::int64_t ns) {
  std::string out;
  ipm::probe::append_json_time_ns(out, ns);
  return out;
}

TEST(JsonWriterTest, escapes_quotes_controls_and_keeps_valid_utf8) {
  EXPECT_EQ(str("plain"), "\"plain\"");
  EXPECT_EQ(str("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(str(std::string_view("\n\t\x01\x7f", 4)), "\"\\n\\t\\u0001\\u007f\"");
  EXPECT_EQ(str("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"),
            "\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\"");
}

TEST(JsonWriterTest, invalid_utf8_becomes_replacement_characters) {
  EXPECT_EQ(str("\xff"), "\"\\ufffd\"");
  EXPECT_EQ(str("\xC0\xAF"), "\"\\ufffd\\ufffd\"");                        // overlong '/'
  EXPECT_EQ(str("\xED\xA0\x80"), "\"\\ufffd\\ufffd\\ufffd\"");             // a surrogate
  EXPECT_EQ(str("\xE2\x82"), "\"\\ufffd\\ufffd\"");                        // truncated
  EXPECT_EQ(str("\xF4\x90\x80\x80"), "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");  // above U+10FFFF
}

TEST(JsonWriterTest, random_bytes_always_give_parseable_json) {
  std::uint32_t seed = 12345;
  for (int round = 0; round < 2000; ++round) {
    std::string bytes;
    for (int i = 0; i < 32; ++i) {
      seed = seed * 1664525U + 1013904223U;
      bytes += static_cast<char>(seed >> 24);
    }
    const std::string literal = str(bytes);
    boost::system::error_code ec;
    boost::json::parse(literal, ec);
    ASSERT_FALSE(ec) << literal;
  }
}

TEST(JsonWriterTest, times_use_gos_rfc3339nano_layout_in_utc) {
  EXPECT_EQ(time_ns(0), "\"1970-01-01T00:00:00Z\"");
  EXPECT_EQ(time_ns(1795315694LL * 1'000'000'000), "\"2026-11-22T02:48:14Z\"");
  EXPECT_EQ(time_ns(1795315694LL * 1'000'000'000 + 500'000'000), "\"2026-11-22T02:48:14.5Z\"");
  EXPECT_EQ(time_ns(951782400LL * 1'000'000'000 + 1), "\"2000-02-29T00:00:00.000000001Z\"");
  std::string open_ended;
  ipm::probe::append_json_time(open_ended, TimePoint::max());
  EXPECT_EQ(open_ended, "null");
}

TEST(JsonWriterTest, numbers) {
  std::string out;
  ipm::probe::append_json_int(out, -42);
  out += ' ';
  ipm::probe::append_json_double(out, 0.25);
  out += ' ';
  ipm::probe::append_json_double(out, std::numeric_limits<double>::quiet_NaN());
  EXPECT_EQ(out, "-42 0.25 null");
}

TEST(TargetTest, splits_path_and_decodes_parameters) {
  const auto t = ipm::probe::parse_target("/probe?ip=10.0.0.1%2C10.0.0.2&reason=a+b%21&flag&&x=");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->path, "/probe");
  ASSERT_EQ(t->params.size(), 4U);
  EXPECT_EQ(t->params[0].second, "10.0.0.1,10.0.0.2");
  EXPECT_EQ(t->params[1].second, "a b!");
  EXPECT_EQ(t->params[2].first, "flag");
  EXPECT_EQ(t->params[3].second, "");
}

TEST(TargetTest, rejects_non_origin_forms_and_bad_escapes) {
  EXPECT_FALSE(ipm::probe::parse_target(""));
  EXPECT_FALSE(ipm::probe::parse_target("*"));
  EXPECT_FALSE(ipm::probe::parse_target("http://x/ping"));
  EXPECT_FALSE(ipm::probe::parse_target("/a%2"));
  EXPECT_FALSE(ipm::probe::parse_target("/a?b=%g0"));
  EXPECT_EQ(ipm::probe::parse_target("/a%2Fb")->path, "/a/b");
}

}  // namespace
