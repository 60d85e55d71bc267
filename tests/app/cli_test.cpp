#include "app/cli.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace {

using ipm::app::parse_command_line;
using testing::HasSubstr;

ipm::app::ParseResult parse(std::initializer_list<std::string_view> args) {
  std::vector<std::string_view> v(args);
  return parse_command_line(v);
}

TEST(CliTest, go_tool_flags) {
  const auto r = parse({"--config", "/etc/ipm/config.json", "--parse", "--port", "9100"});
  ASSERT_TRUE(r.command_line) << r.error;
  EXPECT_EQ(r.command_line->config_path, "/etc/ipm/config.json");
  EXPECT_TRUE(r.command_line->parse_mode);
  EXPECT_EQ(r.command_line->probe_port, 9100);
}

TEST(CliTest, go_single_dash_and_equals_spellings) {
  const auto r = parse({"-config=/c.json", "-port=81", "-parse"});
  ASSERT_TRUE(r.command_line) << r.error;
  EXPECT_EQ(r.command_line->config_path, "/c.json");
  EXPECT_EQ(r.command_line->probe_port, 81);
  EXPECT_TRUE(r.command_line->parse_mode);
}

TEST(CliTest, check_version_help_demo) {
  const auto flag = [](std::initializer_list<std::string_view> args,
                       bool ipm::app::CommandLine::*f) {
    const auto r = parse(args);
    return r.command_line.has_value() && (*r.command_line).*f;
  };
  EXPECT_TRUE(flag({"--config", "c", "--check"}, &ipm::app::CommandLine::check));
  EXPECT_TRUE(flag({"--version"}, &ipm::app::CommandLine::version));
  EXPECT_TRUE(flag({"--help"}, &ipm::app::CommandLine::help));
  EXPECT_TRUE(flag({"-h"}, &ipm::app::CommandLine::help));
  EXPECT_TRUE(flag({"--demo"}, &ipm::app::CommandLine::demo));
  EXPECT_FALSE(flag({"--config", "c"}, &ipm::app::CommandLine::check));
}

TEST(CliTest, errors_are_one_line_and_say_what) {
  EXPECT_THAT(parse({}).error, HasSubstr("--config PATH is required"));
  EXPECT_THAT(parse({"--config"}).error, HasSubstr("--config needs a file path"));
  EXPECT_THAT(parse({"--config", "c", "--port", "70000"}).error, HasSubstr("not a port number"));
  EXPECT_THAT(parse({"--config", "c", "--port", "12x"}).error, HasSubstr("not a port number"));
  EXPECT_THAT(parse({"--config", "c", "--bogus"}).error, HasSubstr("unknown flag '--bogus'"));
  EXPECT_THAT(parse({"--config", "c", "stray"}).error, HasSubstr("unexpected argument 'stray'"));
  EXPECT_THAT(parse({"--config", "c", "--check=yes"}).error, HasSubstr("takes no value"));
  for (const auto& r : {parse({}), parse({"--bogus"})}) {
    EXPECT_EQ(r.error.find('\n'), std::string::npos);
  }
}

TEST(CliTest, usage_mentions_every_flag) {
  const std::string u = ipm::app::usage();
  for (const char* flag : {"--config", "--parse", "--port", "--check", "--version", "--help"}) {
    EXPECT_THAT(u, HasSubstr(flag));
  }
}

}  // namespace
