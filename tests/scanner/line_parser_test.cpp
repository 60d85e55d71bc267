#include "scanner/line_parser.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/config.hpp"
#include "scanner/nginx_time.hpp"
#include "tests/scanner/log_samples.hpp"

namespace ipm::scanner {
namespace {

using std::chrono::seconds;

const std::vector<pool::Egress> kBindings = {
    {"127.0.1.1", 19001, "", 1}, {"127.0.1.2", 19002, "", 1}, {"127.0.1.3", 19003, "", 1}};

constexpr const char* kDesignLine =
    "127.0.0.1 - - [22/Nov/2026:02:48:14 +0000] \"GET /x HTTP/1.1\" 200 18 \"-\" "
    "\"curl/7.88.1\" 127.0.0.1:19002 egress=127.0.1.2 upstream_status=200 rt=0.001 "
    "Exgress_key: k1 -> Request Host: example.com <-";

pool::TimePoint design_time() {
  return pool::TimePoint(seconds(days_from_civil(2026, 11, 22) * 86400 + 2 * 3600 + 48 * 60 + 14));
}

LineParser default_parser(std::size_t max_line = 64 * 1024) {
  return LineParser(LogFormat::compile(config::kDefaultLogFormat), kBindings, max_line);
}

/// Parses with both paths and checks they agree on the result and every field.
ParsedLine parse_checked(LineParser& parser, std::string_view line) {
  const ParsedLine fast = parser.parse(line);
  const ParsedLine slow = parser.parse_with_regex(line);
  EXPECT_EQ(fast.result, slow.result) << line;
  if (fast.ok() && slow.ok()) {
    EXPECT_EQ(fast.event.ip, slow.event.ip) << line;
    EXPECT_EQ(fast.event.port, slow.event.port) << line;
    EXPECT_EQ(fast.event.time, slow.event.time) << line;
    EXPECT_EQ(fast.event.status, slow.event.status) << line;
    EXPECT_EQ(fast.event.upstream_status, slow.event.upstream_status) << line;
    EXPECT_EQ(fast.event.key, slow.event.key) << line;
    EXPECT_EQ(fast.event.target, slow.event.target) << line;
    EXPECT_EQ(fast.event.latency_seconds, slow.event.latency_seconds) << line;
  }
  return fast;
}

TEST(LineParserTest, design_example_line) {
  LineParser parser = default_parser();
  const ParsedLine p = parse_checked(parser, kDesignLine);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p.event.ip, "127.0.1.2");
  EXPECT_EQ(p.event.port, 19002);
  EXPECT_EQ(p.event.time, design_time());
  EXPECT_EQ(p.event.status, 200);
  EXPECT_EQ(p.event.upstream_status, 200);
  EXPECT_EQ(p.event.key, "k1");
  EXPECT_EQ(p.event.target, "example.com");
  EXPECT_FLOAT_EQ(p.event.latency_seconds, 0.001F);
  EXPECT_EQ(parser.fast_path_hits(), 1u);
  EXPECT_EQ(parser.counts().of(LineResult::parsed), 2u);
}

TEST(LineParserTest, target_variable_names_the_field_holding_the_target) {
  // A format that logs the target as $host instead of $http_x_egress_host.
  const std::string_view format =
      "[$time_local] $server_port $status $upstream_status \"$host\" \"$http_x_egress_host\"";
  LineParser parser(LogFormat::compile(format, "host"), kBindings, 64 * 1024);
  const std::string line = "[22/Nov/2026:02:48:14 +0000] 19002 403 403 \"a.example\" \"-\"";
  const ParsedLine p = parse_checked(parser, line);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p.event.target, "a.example");
  LineParser by_default(LogFormat::compile(format), kBindings, 64 * 1024);
  const ParsedLine q = parse_checked(by_default, line);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q.event.target, "") << "\"-\" is no target";
}

TEST(LineParserTest, status_comes_from_its_field_not_the_first_three_digit_number) {
  // The Go tool's " [0-9]{3} " would read 404 (the path) or 503 (the byte count) here.
  test::LineSpec s;
  s.request = "GET /a 404 b HTTP/1.1";
  s.status = 200;
  s.bytes = 503;
  LineParser parser = default_parser();
  const std::string line = test::default_format_line(s);  // the event points into it
  const ParsedLine p = parse_checked(parser, line);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p.event.status, 200);
}

TEST(LineParserTest, upstream_status_is_the_last_of_a_list) {
  LineParser parser = default_parser();
  for (const auto& [text, expected] : std::vector<std::pair<std::string, int>>{
           {"502, 200", 200}, {"502 : 504", 504}, {"-", 0}, {"502, 503, 429", 429}}) {
    test::LineSpec s;
    s.upstream_status = text;
    const std::string line = test::default_format_line(s);  // the event points into it
    const ParsedLine p = parse_checked(parser, line);
    ASSERT_TRUE(p.ok()) << text;
    EXPECT_EQ(p.event.upstream_status, expected) << text;
  }
}

TEST(LineParserTest, dashes_mean_empty_and_absent) {
  test::LineSpec s;
  s.key = "-";
  s.host = "-";
  s.request_time = "-";
  LineParser parser = default_parser();
  const std::string line = test::default_format_line(s);  // the event points into it
  const ParsedLine p = parse_checked(parser, line);
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p.event.key.empty());
  EXPECT_TRUE(p.event.target.empty());
  EXPECT_LT(p.event.latency_seconds, 0.0F);
}

TEST(LineParserTest, fields_with_spaces_and_tricky_text) {
  LineParser parser = default_parser();
  test::LineSpec s;
  s.user_agent = "Mozilla/5.0 (X11; Linux x86_64) \\x22quoted\\x22";
  s.key = "key with spaces";
  s.host = "host <- with arrow";  // the last " <-" ends the line, the regex backtracks
  s.request = "GET /?q=a%20b&x=] [ \\x22 HTTP/1.1";
  const std::string line = test::default_format_line(s);  // the event points into it
  const ParsedLine p = parse_checked(parser, line);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p.event.key, "key with spaces");
  EXPECT_EQ(p.event.target, "host <- with arrow");
}

TEST(LineParserTest, empty_server_name_as_nginx_logs_it) {
  test::LineSpec s;
  s.egress = "";  // a block without server_name: "egress= upstream_status=..."
  LineParser parser = default_parser();
  const std::string line = test::default_format_line(s);  // the event points into it
  const ParsedLine p = parse_checked(parser, line);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p.event.ip, "127.0.1.2");
}

TEST(LineParserTest, ipv6_server_addr_needs_the_regex_and_still_parses) {
  test::LineSpec s;
  s.server_addr = "::1";
  s.remote = "::1";
  LineParser parser = default_parser();
  const std::string line = test::default_format_line(s);  // the event points into it
  const ParsedLine p = parse_checked(parser, line);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p.event.port, 19002);
}

TEST(LineParserTest, skipped_lines_are_counted_by_reason) {
  LineParser parser = default_parser(400);
  test::LineSpec unknown;
  unknown.port = 19999;
  test::LineSpec bad_status;
  bad_status.status = 999;
  std::string bad_time = kDesignLine;
  bad_time.replace(bad_time.find("22/Nov"), 6, "31/Nov");
  const std::string too_long = std::string(kDesignLine) + std::string(400, 'x');

  EXPECT_EQ(parse_checked(parser, test::default_format_line(unknown)).result,
            LineResult::unknown_port);
  EXPECT_EQ(parse_checked(parser, test::default_format_line(bad_status)).result,
            LineResult::bad_status);
  EXPECT_EQ(parse_checked(parser, bad_time).result, LineResult::bad_time);
  EXPECT_EQ(parse_checked(parser, too_long).result, LineResult::too_long);
  EXPECT_EQ(parse_checked(parser, "").result, LineResult::no_match);
  EXPECT_EQ(parse_checked(parser, "garbage line").result, LineResult::no_match);
  EXPECT_EQ(parse_checked(parser, std::string(kDesignLine) + " trailing").result,
            LineResult::no_match);
  const LineCounts counts = parser.take_counts();
  EXPECT_EQ(counts.of(LineResult::unknown_port), 2u);
  EXPECT_EQ(counts.of(LineResult::bad_status), 2u);
  EXPECT_EQ(counts.of(LineResult::bad_time), 2u);
  EXPECT_EQ(counts.of(LineResult::too_long), 2u);
  EXPECT_EQ(counts.of(LineResult::no_match), 6u);
  EXPECT_EQ(counts.total(), 14u);
  EXPECT_GT(counts.bytes, 800u);
  EXPECT_EQ(parser.counts().total(), 0u);
}

TEST(LineParserTest, server_name_attribution_when_the_format_has_no_port) {
  LineParser parser(LogFormat::compile("[$time_iso8601] egress=$server_name s=$status"), kBindings,
                    1024);
  const ParsedLine p = parse_checked(parser, "[2026-11-22T02:48:14+00:00] egress=127.0.1.3 s=429");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p.event.ip, "127.0.1.3");
  EXPECT_EQ(p.event.port, 19003);
  EXPECT_EQ(p.event.status, 429);
  EXPECT_EQ(parse_checked(parser, "[2026-11-22T02:48:14+00:00] egress=10.9.9.9 s=200").result,
            LineResult::unknown_ip);
  // Without an upstream map, any IP-looking server_name is taken as the egress.
  LineParser unmapped(LogFormat::compile("[$time_iso8601] egress=$server_name s=$status"), {},
                      1024);
  const ParsedLine q = parse_checked(unmapped, "[2026-11-22T02:48:14Z] egress=10.9.9.9 s=200");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q.event.ip, "10.9.9.9");
  EXPECT_EQ(parse_checked(unmapped, "[2026-11-22T02:48:14Z] egress=host.name s=200").result,
            LineResult::unknown_ip);
}

TEST(LineParserTest, adjacent_fields_are_split_by_the_regex_with_a_three_digit_status) {
  LineParser parser(LogFormat::compile("$msec $server_port$status"), kBindings, 1024);
  const ParsedLine p = parser.parse("1795315694.123 19001503");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p.event.port, 19001);
  EXPECT_EQ(p.event.status, 503);
  EXPECT_EQ(parser.fast_path_hits(), 0u);
}

TEST(LineParserTest, fast_path_and_regex_agree_on_generated_lines) {
  LineParser parser = default_parser();
  const std::vector<std::string> agents = {"curl/7.88.1", "a b c", "-", "x\\x22y", ""};
  const std::vector<std::string> hosts = {"example.com", "a <- b", "-", "h:443", ""};
  int parsed = 0;
  for (int i = 0; i < 500; ++i) {
    test::LineSpec s;
    s.time = design_time() + seconds(i);
    s.status = 100 + (i * 37) % 500;
    s.port = 19001 + i % 4;  // 19004 is unknown
    s.user_agent = agents[static_cast<std::size_t>(i) % agents.size()];
    s.host = hosts[static_cast<std::size_t>(i / 5) % hosts.size()];
    s.key = i % 7 == 0 ? "-" : "key" + std::to_string(i);
    s.upstream_status = i % 3 == 0 ? "502, " + std::to_string(s.status) : "-";
    parsed += parse_checked(parser, test::default_format_line(s)).ok() ? 1 : 0;
  }
  EXPECT_EQ(parsed, 375);
  EXPECT_GT(parser.fast_path_hits(), 300u);
}

// The fields that stop at a few bytes only are scanned eight bytes at a time: a stop byte
// (or a byte that only looks like the next literal's start) at every offset of a word, and
// fields shorter, as long as and longer than a word, must give what the regex gives.
TEST(LineParserTest, word_scan_finds_each_field_end_at_every_offset) {
  LineParser parser = default_parser();
  int lines = 0;
  for (std::size_t size = 0; size <= 20; ++size) {
    for (std::size_t at = 0; at <= size; ++at) {
      test::LineSpec s;
      s.time = design_time();
      // A space inside the key and a quote inside the request and the user agent: each is
      // the first byte of the literal after its field, but not followed by the rest of it.
      s.key = std::string(size, 'k');
      s.request = std::string(size, 'r');
      s.user_agent = std::string(size, 'a');
      s.remote = std::string(size + 1, '1');
      if (at < size) {
        s.key[at] = ' ';
        s.request[at] = '"';
        s.user_agent[at] = '"';
      }
      const std::string line = test::default_format_line(s);  // the event's views point here
      const ParsedLine p = parse_checked(parser, line);
      ++lines;
      ASSERT_TRUE(p.ok()) << line;
      EXPECT_EQ(p.event.key, s.key == "-" ? "" : s.key);
      EXPECT_EQ(p.event.ip, "127.0.1.2");
    }
  }
  EXPECT_EQ(parser.fast_path_hits(), static_cast<std::uint64_t>(lines));
}

}  // namespace
}  // namespace ipm::scanner
