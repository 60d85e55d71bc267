// Bounded random-input tests for the scanner's parsers of outside input (runs under gcc and
// the sanitizers; the libFuzzer targets next to it need clang). Seeds are fixed, so a
// failure reproduces; each case prints the input that broke it.
#include <gtest/gtest.h>

#include <cstdlib>
#include <random>
#include <string>

#include "config/config.hpp"
#include "scanner/line_parser.hpp"
#include "scanner/log_format.hpp"
#include "scanner/nginx_config.hpp"
#include "scanner/upstream_config.hpp"
#include "tests/scanner/log_samples.hpp"

namespace ipm::scanner {
namespace {

/// Iterations: `n` times IPM_FUZZ_SCALE (default 1), for longer runs by hand.
int scaled(int n) {
  const char* scale = std::getenv("IPM_FUZZ_SCALE");
  return scale != nullptr && std::atoi(scale) > 0 ? n * std::atoi(scale) : n;
}

/// Bytes that matter to the parsers, plus some that should not.
constexpr std::string_view kAlphabet = "{};\"'\\#$ \t\n:->[]/.,0123456789abcxyzAZ_\x01\xff";

std::string mutate(std::string s, std::mt19937& rng) {
  const int edits = 1 + static_cast<int>(rng() % 8);
  for (int e = 0; e < edits; ++e) {
    const std::size_t at = s.empty() ? 0 : rng() % (s.size() + 1);
    const char c = kAlphabet[rng() % kAlphabet.size()];
    switch (rng() % 4) {
      case 0:
        s.insert(at, 1, c);
        break;
      case 1:
        if (at < s.size()) {
          s.erase(at, 1 + rng() % 16);
        }
        break;
      case 2:
        if (at < s.size()) {
          s[at] = c;
        }
        break;
      default:
        if (!s.empty()) {  // duplicate a slice somewhere else
          const std::size_t from = rng() % s.size();
          s.insert(at, s.substr(from, 1 + rng() % 32));
        }
        break;
    }
  }
  return s;
}

std::string random_bytes(std::mt19937& rng, std::size_t max) {
  std::string s(rng() % max, '\0');
  for (char& c : s) {
    c = static_cast<char>(rng() % 256);
  }
  return s;
}

TEST(ScannerFuzzTest, nginx_config_parser_accepts_or_names_the_problem) {
  std::mt19937 rng(20261122);
  const std::string seed = test::go_style_config(3) +
                           "http { server { listen [::1]:80 default_server; "
                           "proxy_bind 10.0.0.9 transparent; return 200 \"a\\\"b\"; } }\n";
  int accepted = 0;
  for (int i = 0; i < scaled(4000); ++i) {
    const std::string text = i % 5 == 0 ? random_bytes(rng, 512) : mutate(seed, rng);
    try {
      upstream_from_directives(parse_nginx_config(text, "fuzz.conf"), "fuzz.conf");
      ++accepted;
    } catch (const NginxConfigError& e) {
      ASSERT_TRUE(std::string_view(e.what()).starts_with("fuzz.conf")) << e.what();
    } catch (const std::exception& e) {
      FAIL() << "unexpected exception " << e.what() << " on:\n" << text;
    }
  }
  EXPECT_GT(accepted, 400) << "the mutations keep a share of the configs valid";
}

TEST(ScannerFuzzTest, log_format_compiler_accepts_or_names_the_problem) {
  std::mt19937 rng(7);
  int compiled = 0;
  for (int i = 0; i < scaled(3000); ++i) {
    const std::string format = mutate(config::kDefaultLogFormat, rng);
    try {
      const LogFormat f = LogFormat::compile(format);
      EXPECT_GT(f.captures(), 0);
      ++compiled;
    } catch (const LogFormatError& e) {
      ASSERT_TRUE(std::string_view(e.what()).starts_with("log_format: ")) << e.what();
    } catch (const std::exception& e) {
      FAIL() << "unexpected exception " << e.what() << " on: " << format;
    }
  }
  EXPECT_GT(compiled, 300) << "the mutations keep a share of the formats valid";
}

void expect_same(const ParsedLine& fast, const ParsedLine& slow, const std::string& line) {
  ASSERT_EQ(fast.result, slow.result) << line;
  if (fast.ok()) {
    ASSERT_EQ(fast.event.ip, slow.event.ip) << line;
    ASSERT_EQ(fast.event.time, slow.event.time) << line;
    ASSERT_EQ(fast.event.status, slow.event.status) << line;
    ASSERT_EQ(fast.event.upstream_status, slow.event.upstream_status) << line;
    ASSERT_EQ(fast.event.key, slow.event.key) << line;
    ASSERT_EQ(fast.event.target, slow.event.target) << line;
    ASSERT_EQ(fast.event.latency_seconds, slow.event.latency_seconds) << line;
  }
}

// The fast path may only ever answer what RE2, the parser of record, answers.
TEST(ScannerFuzzTest, line_parser_never_crashes_and_fast_path_agrees_with_regex) {
  const std::vector<pool::Egress> bindings = {{"127.0.1.2", 19002, "", 1},
                                              {"127.0.1.3", 19003, "", 1}};
  const std::vector<std::string> formats = {
      config::kDefaultLogFormat,
      "[$time_iso8601] egress=$server_name s=$status u=\"$upstream_status\" k=$http_x_egress_key",
      "$msec $server_port $status $request_time \"$http_x_egress_host\""};
  const std::vector<std::string> seeds = {
      test::default_format_line({}),
      "[2026-11-22T02:48:14+00:00] egress=127.0.1.3 s=429 u=\"502, 429\" k=abc",
      "1795315694.123 19003 503 0.250 \"host:443\""};
  std::mt19937 rng(3);
  std::uint64_t parsed = 0;
  for (std::size_t f = 0; f < formats.size(); ++f) {
    LineParser parser(LogFormat::compile(formats[f]), bindings, 4096);
    for (int i = 0; i < scaled(15000); ++i) {
      const std::string line = i % 10 == 0 ? random_bytes(rng, 300) : mutate(seeds[f], rng);
      const ParsedLine fast = parser.parse(line);
      const ParsedLine slow = parser.parse_with_regex(line);
      expect_same(fast, slow, line);
      parsed += fast.ok() ? 1 : 0;
    }
  }
  EXPECT_GT(parsed, 1000u);  // the mutations keep a share of the lines valid
}

}  // namespace
}  // namespace ipm::scanner
