#include "scanner/log_format.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/config.hpp"
#include "scanner/nginx_config.hpp"

namespace ipm::scanner {
namespace {

using ::testing::HasSubstr;

std::string error_of(std::string_view format) {
  try {
    LogFormat::compile(format);
  } catch (const LogFormatError& e) {
    return e.what();
  }
  return "no error";
}

TEST(LogFormatTest, default_format_captures_only_the_used_fields) {
  const LogFormat f = LogFormat::compile(config::kDefaultLogFormat);
  EXPECT_EQ(f.captures(), 7);  // time, status, port, upstream status, rt, key, host
  EXPECT_TRUE(f.has(LogField::time_local));
  EXPECT_TRUE(f.has(LogField::server_port));
  EXPECT_FALSE(f.has(LogField::server_name));  // the port attributes; no need to capture
  EXPECT_TRUE(f.fast_path_possible());
  EXPECT_EQ(f.leading_literal(), "");
  EXPECT_EQ(f.slots().front().variable, "remote_addr");
  EXPECT_EQ(f.slots().back().literal_after, " <-");
}

TEST(LogFormatTest, accepts_nginx_quoted_syntax_as_pasted_from_nginx_conf) {
  const LogFormat quoted = LogFormat::compile(
      "log_format proxy_logs escape=default '$remote_addr - $remote_user [$time_local] "
      "\"$request\" $status $body_bytes_sent '\n"
      "  '\"$http_referer\" \"$http_user_agent\" $server_addr:$server_port '\n"
      "  'egress=$server_name upstream_status=$upstream_status rt=$request_time '\n"
      "  'Exgress_key: $http_x_egress_key -> Request Host: $http_x_egress_host <-';");
  EXPECT_EQ(quoted.format(), config::kDefaultLogFormat);
}

// deploy/nginx/log_format.conf declares exactly the default format, read by our own
// nginx config parser.
TEST(LogFormatTest, shipped_nginx_snippet_declares_the_default_format) {
  const auto tree = read_nginx_config(IPM_SOURCE_DIR "/deploy/nginx/log_format.conf");
  ASSERT_EQ(tree.size(), 1u);
  ASSERT_EQ(tree[0].name, "log_format");
  ASSERT_GE(tree[0].args.size(), 2u);
  EXPECT_EQ(tree[0].args[0], "proxy_logs");
  std::string joined;
  for (std::size_t i = 1; i < tree[0].args.size(); ++i) {
    joined += tree[0].args[i];
  }
  EXPECT_EQ(joined, config::kDefaultLogFormat);
}

TEST(LogFormatTest, server_name_attributes_when_there_is_no_port) {
  const LogFormat f = LogFormat::compile("[$time_iso8601] egress=$server_name $status");
  EXPECT_TRUE(f.has(LogField::server_name));
  EXPECT_EQ(f.time_field(), LogField::time_iso8601);
  EXPECT_EQ(f.leading_literal(), "[");
}

TEST(LogFormatTest, braced_variables) {
  const LogFormat f = LogFormat::compile("${msec}|${server_port}|${status}");
  EXPECT_EQ(f.time_field(), LogField::msec);
  EXPECT_EQ(f.slots()[0].literal_after, "|");
}

TEST(LogFormatTest, adjacent_variables_disable_only_the_fast_path) {
  const LogFormat f = LogFormat::compile("$time_local $server_port$status");
  EXPECT_FALSE(f.fast_path_possible());
}

TEST(LogFormatTest, bad_formats_say_what_to_add) {
  EXPECT_THAT(error_of("$remote_addr $status $server_port"),
              HasSubstr("log_format: no time field; add $time_local or $time_iso8601"));
  EXPECT_THAT(error_of("$time_local $status"),
              HasSubstr("no field attributes a line to an egress; add $server_port"));
  EXPECT_THAT(error_of("$time_local $ $server_port"), HasSubstr("\"$\" without a variable"));
  EXPECT_THAT(error_of("$time_local ${server_port"), HasSubstr("without a closing"));
  EXPECT_THAT(error_of("   "), HasSubstr("empty"));
  EXPECT_THAT(error_of("log_format x '$time_local $server_port"), HasSubstr("bad quoting"));
}

}  // namespace
}  // namespace ipm::scanner
