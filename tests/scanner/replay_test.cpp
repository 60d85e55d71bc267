#include "scanner/replay.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>
#include <zlib.h>

#include <filesystem>
#include <sstream>

#include "config/config.hpp"
#include "scanner/replay_progress.hpp"
#include "scanner/scanner_metrics.hpp"
#include "tests/scanner/log_samples.hpp"
#include "tests/support/temp_dir.hpp"

namespace ipm::scanner {
namespace {

namespace fs = std::filesystem;
using std::chrono::seconds;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

const std::vector<pool::Egress> kBindings = {{"127.0.1.1", 19001, "127.0.1.1", 1},
                                             {"127.0.1.2", 19002, "127.0.1.2", 1}};

const pool::TimePoint kStart = pool::TimePoint(seconds(1795315694));

/// `n` lines on `ip` (port from kBindings) starting `first` seconds after kStart; the key
/// carries the second so the test can check order.
std::string lines(int first, int n, const std::string& ip = "127.0.1.1") {
  std::string out;
  for (int i = first; i < first + n; ++i) {
    test::LineSpec s;
    s.time = kStart + seconds(i);
    s.egress = ip;
    s.port = ip == "127.0.1.1" ? 19001 : 19002;
    s.key = std::to_string(i);
    out += test::default_format_line(s) + "\n";
  }
  return out;
}

void write_gz(const fs::path& path, const std::string& content) {
  gzFile f = gzopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(gzwrite(f, content.data(), static_cast<unsigned>(content.size())),
            static_cast<int>(content.size()));
  gzclose(f);
}

struct Collected {
  std::vector<std::string> keys;
  std::vector<std::string> ips;
  std::vector<pool::TimePoint> times;
};

struct ReplayRun {
  ReplayPlan plan;
  ReplayReport report;
  Collected events;
};

ReplayRun run_replay(const std::string& path, std::size_t max_line = 64 * 1024) {
  LineParser parser(LogFormat::compile(config::kDefaultLogFormat), kBindings, max_line);
  ReplayRun r;
  r.plan = plan_replay(path, kBindings);
  r.report = replay(r.plan, parser, [&](const pool::LogEvent& e) {
    r.events.keys.emplace_back(e.key);
    r.events.ips.emplace_back(e.ip);
    r.events.times.push_back(e.time);
  });
  return r;
}

std::vector<std::string> keys(int first, int n) {
  std::vector<std::string> out;
  for (int i = first; i < first + n; ++i) {
    out.push_back(std::to_string(i));
  }
  return out;
}

std::vector<std::string> kinds(const std::vector<ReplayProblem>& problems) {
  std::vector<std::string> out;
  for (const ReplayProblem& p : problems) {
    out.push_back(p.kind);
  }
  return out;
}

TEST(ReplayTest, rotated_set_oldest_first_and_the_live_file_is_left_to_the_tailer) {
  test::TempDir dir("ipm-replay");
  const std::string live = (dir / "access.log").string();
  write_gz(live + ".4.gz", lines(0, 10));
  write_gz(live + ".3.gz", lines(10, 10));
  write_gz(live + ".2.gz", lines(20, 10));
  test::write_file(live + ".1", lines(30, 10));
  test::write_file(live, lines(40, 10));
  test::write_file(live + ".bak", lines(90, 1));        // not a rotation
  test::write_file(dir / "other.log.1", lines(91, 1));  // another log

  const ReplayRun r = run_replay(live);
  ASSERT_EQ(r.plan.logs.size(), 1u);
  EXPECT_EQ(r.plan.logs[0].live, live);
  EXPECT_THAT(r.plan.logs[0].rotated,
              ElementsAre(live + ".4.gz", live + ".3.gz", live + ".2.gz", live + ".1"));
  EXPECT_EQ(r.events.keys, keys(0, 40));
  EXPECT_EQ(r.report.files, 4u);
  EXPECT_EQ(r.report.lines, 40u);
  EXPECT_EQ(r.report.events, 40u);
  EXPECT_THAT(r.report.problems, IsEmpty());
}

TEST(ReplayTest, empty_truncated_and_missing_members_are_reported_and_replay_goes_on) {
  test::TempDir dir("ipm-replay");
  const std::string live = (dir / "access.log").string();
  write_gz(live + ".6.gz", lines(0, 10));
  // .5 is missing
  {
    // A .gz cut in the middle: the lines before the cut are replayed.
    write_gz(live + ".4.gz.full", lines(10, 2000));
    const std::string full = test::read_file(live + ".4.gz.full");
    test::write_file(live + ".4.gz", full.substr(0, full.size() / 2));
    fs::remove(live + ".4.gz.full");
  }
  test::write_file(live + ".3", "");
  write_gz(live + ".2.gz", "");  // an empty gzip member
  test::write_file(live + ".1", lines(3000, 5));

  const ReplayRun r = run_replay(live);
  EXPECT_THAT(kinds(r.report.problems), ElementsAre("missing", "truncated", "empty", "empty"));
  EXPECT_THAT(r.report.problems[0].message, HasSubstr("access.log.5[.gz]: missing"));
  EXPECT_THAT(r.report.problems[1].message, HasSubstr("access.log.4.gz: gzip data ends"));
  // Everything before the cut, then the files after it.
  ASSERT_GT(r.events.keys.size(), 15u);
  EXPECT_EQ(r.events.keys.front(), "0");
  EXPECT_EQ(r.events.keys.back(), "3004");
  const std::size_t from_truncated = r.events.keys.size() - 15;
  EXPECT_GT(from_truncated, 100u);
  EXPECT_LT(from_truncated, 2000u);
  EXPECT_EQ(r.report.files, 5u);
}

TEST(ReplayTest, corrupt_gzip_and_both_forms) {
  test::TempDir dir("ipm-replay");
  const std::string live = (dir / "access.log").string();
  write_gz(live + ".3.gz", lines(0, 500));
  std::string bytes = test::read_file(live + ".3.gz");
  bytes[bytes.size() - 8] = static_cast<char>(bytes[bytes.size() - 8] ^ 0x5a);  // the CRC
  test::write_file(live + ".3.gz", bytes);
  test::write_file(live + ".2", lines(1000, 3));
  write_gz(live + ".2.gz", lines(1000, 1));  // compression interrupted
  test::write_file(live + ".1", lines(2000, 2));
  const ReplayRun r = run_replay(live);
  EXPECT_THAT(kinds(r.report.problems), ElementsAre("both_forms", "corrupt"));
  EXPECT_THAT(r.report.problems[1].message, HasSubstr("access.log.3.gz: gzip data is corrupt"));
  EXPECT_EQ(r.events.keys.back(), "2001");
  EXPECT_EQ(r.plan.logs[0].rotated[1], live + ".2");
}

TEST(ReplayTest, garbage_in_the_middle_of_a_gzip_stream_stops_only_that_file) {
  test::TempDir dir("ipm-replay");
  const std::string live = (dir / "access.log").string();
  write_gz(live + ".2.gz", lines(0, 2000));
  std::string bytes = test::read_file(live + ".2.gz");
  for (std::size_t i = bytes.size() / 2; i < bytes.size() / 2 + 256; ++i) {
    bytes[i] = static_cast<char>(i * 7);
  }
  test::write_file(live + ".2.gz", bytes);
  test::write_file(live + ".1", lines(5000, 2));
  const ReplayRun r = run_replay(live);
  ASSERT_EQ(r.report.problems.size(), 1u);
  EXPECT_THAT(r.report.problems[0].kind, ::testing::AnyOf("corrupt", "truncated"));
  EXPECT_EQ(r.events.keys.back(), "5001");
}

TEST(ReplayTest, multi_member_gzip_and_a_last_line_without_newline) {
  test::TempDir dir("ipm-replay");
  const std::string live = (dir / "access.log").string();
  write_gz(dir / "a.gz", lines(0, 3));
  write_gz(dir / "b.gz", lines(3, 3));
  test::write_file(live + ".2.gz", test::read_file(dir / "a.gz") + test::read_file(dir / "b.gz"));
  std::string last = lines(6, 2);
  last.pop_back();
  test::write_file(live + ".1", last);
  const ReplayRun r = run_replay(live);
  EXPECT_EQ(r.events.keys, keys(0, 8));
  EXPECT_THAT(r.report.problems, IsEmpty());
}

TEST(ReplayTest, out_of_order_files_are_reported) {
  test::TempDir dir("ipm-replay");
  const std::string live = (dir / "access.log").string();
  test::write_file(live + ".2", lines(100, 2));
  test::write_file(live + ".1", lines(0, 2));
  const ReplayRun r = run_replay(live);
  EXPECT_THAT(kinds(r.report.problems), ElementsAre("out_of_order"));
  EXPECT_EQ(r.events.keys, (std::vector<std::string>{"100", "101", "0", "1"}));
}

TEST(ReplayTest, over_long_lines_are_skipped_whole) {
  test::TempDir dir("ipm-replay");
  const std::string live = (dir / "access.log").string();
  test::write_file(live + ".1", lines(0, 1) + std::string(100000, 'x') + "\n" + lines(1, 1));
  LineParser parser(LogFormat::compile(config::kDefaultLogFormat), kBindings, 1000);
  std::vector<std::string> seen;
  const ReplayReport report = replay(plan_replay(live, kBindings), parser,
                                     [&](const pool::LogEvent& e) { seen.emplace_back(e.key); });
  EXPECT_EQ(seen, (std::vector<std::string>{"0", "1"}));
  EXPECT_EQ(parser.counts().of(LineResult::too_long), 1u);
  EXPECT_EQ(report.lines, 3u);
}

TEST(ReplayTest, per_ip_logs_are_merged_in_event_time) {
  test::TempDir dir("ipm-replay");
  const std::string pattern = (dir / "%s.access.log").string();
  const std::string a = (dir / "127.0.1.1.access.log").string();
  const std::string b = (dir / "127.0.1.2.access.log").string();
  // a: seconds 0-4 and 10-14; b: 5-9 and 15-19.
  write_gz(a + ".2.gz", lines(0, 5, "127.0.1.1"));
  test::write_file(a + ".1", lines(10, 5, "127.0.1.1"));
  write_gz(b + ".2.gz", lines(5, 5, "127.0.1.2"));
  test::write_file(b + ".1", lines(15, 5, "127.0.1.2"));
  const ReplayRun r = run_replay(pattern);
  ASSERT_EQ(r.plan.logs.size(), 2u);
  EXPECT_EQ(r.plan.logs[1].live, b);
  EXPECT_EQ(r.events.keys, keys(0, 20));
  EXPECT_EQ(r.events.ips[5], "127.0.1.2");
  EXPECT_TRUE(std::is_sorted(r.events.times.begin(), r.events.times.end()));
}

TEST(ReplayTest, missing_log_folder_or_no_rotations_replays_nothing) {
  const ReplayRun r = run_replay("/nonexistent/ipm/access.log");
  EXPECT_THAT(r.plan.logs[0].rotated, IsEmpty());
  EXPECT_EQ(r.report.events, 0u);
}

TEST(ReplayTest, metrics_receive_counts_and_problems) {
  test::TempDir dir("ipm-replay");
  const std::string live = (dir / "access.log").string();
  test::write_file(live + ".2", "");
  test::write_file(live + ".1", lines(0, 3) + "junk\n");
  prometheus::Registry registry;
  ScannerMetrics metrics(registry);
  LineParser parser(LogFormat::compile(config::kDefaultLogFormat), kBindings, 4096);
  replay(
      plan_replay(live, kBindings), parser, [](const pool::LogEvent&) {},
      ReplayOptions{nullptr, &metrics});
  const std::string text = prometheus::TextSerializer().Serialize(registry.Collect());
  EXPECT_THAT(text, HasSubstr("ipmanager_scanner_lines_total{result=\"parsed\"} 3"));
  EXPECT_THAT(text, HasSubstr("ipmanager_scanner_lines_total{result=\"no_match\"} 1"));
  EXPECT_THAT(text, HasSubstr("ipmanager_scanner_replay_problems_total{problem=\"empty\"} 1"));
  EXPECT_THAT(text, HasSubstr("ipmanager_scanner_bytes_total"));
}

TEST(ReplayProgressTest, silent_for_a_second_then_a_line_every_few_seconds_off_terminal) {
  std::ostringstream out;
  ReplayProgress::Clock::time_point now{};
  ReplayProgress progress(out, false, [&] { return now; });
  progress.start(4, 4000000);
  now += std::chrono::milliseconds(900);
  progress.update(1, 1000000, 1000);
  EXPECT_EQ(out.str(), "");
  now += std::chrono::milliseconds(200);
  progress.update(1, 1100000, 1100);
  EXPECT_THAT(out.str(), HasSubstr("ipmanager: replay: 1/4 files, 1.1 MB/4.0 MB, 1100 lines"));
  const std::size_t one_line = out.str().size();
  now += std::chrono::seconds(2);
  progress.update(2, 2000000, 2000);
  EXPECT_EQ(out.str().size(), one_line);  // not yet 5 s since the last line
  now += std::chrono::seconds(4);
  progress.update(3, 3000000, 3000);
  EXPECT_GT(out.str().size(), one_line);
  progress.finish(4, 4000000, 4000);
  EXPECT_THAT(out.str(), HasSubstr("ipmanager: replay done: 4/4 files"));
}

TEST(ReplayProgressTest, terminal_rewrites_one_line_and_short_replays_say_nothing) {
  std::ostringstream out;
  ReplayProgress::Clock::time_point now{};
  ReplayProgress progress(out, true, [&] { return now; });
  progress.start(1, 10);
  now += std::chrono::milliseconds(1500);
  progress.update(0, 5, 5);
  EXPECT_THAT(out.str(), HasSubstr("\r\x1b[Kreplay: 0/1 files"));
  progress.finish(1, 10, 10);
  EXPECT_TRUE(out.str().ends_with("\n"));

  std::ostringstream quiet;
  ReplayProgress fast(quiet, true, [&] { return now; });
  fast.start(1, 10);
  fast.update(1, 10, 10);
  fast.finish(1, 10, 10);
  EXPECT_EQ(quiet.str(), "");
}

}  // namespace
}  // namespace ipm::scanner
