// Random-input tests (fixed seeds, so a failure reproduces) of the scanner parts that cut
// and decompress what they read: the tailer's line splitter against a plain reference
// split, fed in random chunks; and the replay of randomly rotated, compressed and damaged
// logs, against the lines written.
#include "scanner/tail_line_splitter.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <random>

#include "config/config.hpp"
#include "scanner/line_parser.hpp"
#include "scanner/log_format.hpp"
#include "scanner/replay.hpp"
#include "tests/scanner/log_samples.hpp"
#include "tests/support/temp_dir.hpp"

namespace ipm::scanner {
namespace {

namespace fs = std::filesystem;

// A stream of lines: short, empty, exactly at the limit, over it, with '\r' endings and
// binary bytes, and sometimes an unfinished last line.
std::string random_stream(std::mt19937& rng, std::size_t max) {
  std::string s;
  const int lines = static_cast<int>(rng() % 60);
  for (int i = 0; i < lines; ++i) {
    std::size_t len = 0;
    switch (rng() % 6) {
      case 0:
        len = 0;
        break;
      case 1:
        len = max;
        break;
      case 2:
        len = max + 1 + rng() % 3;
        break;
      case 3:
        len = max * (2 + rng() % 3);
        break;
      default:
        len = rng() % max;
        break;
    }
    for (std::size_t k = 0; k < len; ++k) {
      char c = static_cast<char>(rng() % 256);
      s += c == '\n' ? 'x' : c;
    }
    if (rng() % 5 == 0 && !s.empty() && s.back() != '\n')
      s.back() = '\r';
    s += '\n';
  }
  if (rng() % 3 == 0)
    s += std::string(rng() % (2 * max), 'p');  // unfinished
  return s;
}

TEST(RandomInputTest, splitter_matches_a_reference_split_whatever_the_chunking) {
  std::mt19937 rng(20261122);
  int compared = 0;
  std::uint64_t long_lines = 0;
  for (int round = 0; round < 2000; ++round) {
    const std::size_t max = 1 + rng() % 40;
    const std::string stream = random_stream(rng, max);
    // The reference: split at '\n'; over-long lines counted, the rest without a final '\r'.
    std::vector<std::string> want;
    std::uint64_t want_long = 0;
    std::size_t start = 0;
    for (auto nl = stream.find('\n'); nl != std::string::npos;
         start = nl + 1, nl = stream.find('\n', start)) {
      std::string line = stream.substr(start, nl - start);
      if (line.size() > max) {
        ++want_long;
        continue;
      }
      if (!line.empty() && line.back() == '\r')
        line.pop_back();
      want.push_back(line);
    }
    TailLineSplitter splitter(max);
    std::vector<std::string> got;
    for (std::size_t at = 0; at < stream.size();) {
      const std::size_t n = std::min<std::size_t>(stream.size() - at, 1 + rng() % (2 * max + 3));
      std::vector<std::string_view> lines;
      splitter.feed(std::string_view(stream).substr(at, n), lines);
      got.insert(got.end(), lines.begin(), lines.end());
      at += n;
    }
    // An unfinished last line is counted as too long as soon as it is.
    const std::size_t tail = stream.size() - start;
    want_long += tail > max ? 1 : 0;
    ASSERT_EQ(got, want) << "round " << round << ", max " << max;
    ASSERT_EQ(splitter.too_long(), want_long) << "round " << round;
    ASSERT_EQ(splitter.has_partial(), tail > 0) << "round " << round;
    if (tail <= max) {
      ASSERT_EQ(splitter.partial_bytes(), tail) << "round " << round;
    }
    compared += static_cast<int>(want.size());
    long_lines += want_long;
  }
  EXPECT_GT(compared, 20000);
  EXPECT_GT(long_lines, 5000U);
}

const std::vector<pool::Egress> kBindings = {{"127.0.1.1", 19001, "127.0.1.1", 1}};
const pool::TimePoint kStart = pool::TimePoint(std::chrono::seconds(1795315694));

void write_gz(const fs::path& path, const std::string& content, int members, int level) {
  gzFile f = gzopen(path.c_str(), ("wb" + std::to_string(level)).c_str());
  ASSERT_NE(f, nullptr);
  // Several gzip members in one file, as `cat a.gz b.gz` or an appending writer makes.
  const std::size_t step = content.size() / static_cast<std::size_t>(members) + 1;
  for (std::size_t at = 0; at < content.size(); at += step) {
    const std::string part = content.substr(at, step);
    ASSERT_EQ(gzwrite(f, part.data(), static_cast<unsigned>(part.size())),
              static_cast<int>(part.size()));
    if (at + step < content.size()) {
      ASSERT_EQ(gzflush(f, Z_FINISH), Z_OK);
    }
  }
  gzclose(f);
}

// Random rotations: N members, each plain or .gz (random level, one or several gzip
// members), the newest sometimes plain (delaycompress); the replay gives every line once,
// in order. A truncated .gz loses only what follows the cut, and is reported.
TEST(RandomInputTest, replay_of_random_rotations_gives_every_line_once_in_order) {
  std::mt19937 rng(7);
  int replayed = 0;
  for (int round = 0; round < 40; ++round) {
    test::TempDir dir("ipm-random-replay");
    const int files = 1 + static_cast<int>(rng() % 6);
    const bool truncate_one = round % 4 == 3;
    const int truncated = truncate_one ? 1 + static_cast<int>(rng() % files) : -1;
    std::vector<int> want;
    bool cut = false;
    int second = 0;
    for (int n = files; n >= 1; --n) {  // oldest (highest number) first
      std::string content;
      const int count = static_cast<int>(rng() % 300);
      std::vector<int> keys;
      for (int i = 0; i < count; ++i, ++second) {
        test::LineSpec s;
        s.time = kStart + std::chrono::seconds(second);
        s.egress = "127.0.1.1";
        s.port = 19001;
        s.key = std::to_string(second);
        content += test::default_format_line(s) + "\n";
        keys.push_back(second);
      }
      const fs::path base = dir / ("access.log." + std::to_string(n));
      const bool gz = n > 1 || rng() % 2 == 0;
      if (!gz) {
        test::write_file(base, content);
        want.insert(want.end(), keys.begin(), keys.end());
        continue;
      }
      const fs::path path = base.string() + ".gz";
      write_gz(path, content, 1 + static_cast<int>(rng() % 3), 1 + static_cast<int>(rng() % 9));
      if (n == truncated && count > 0) {
        fs::resize_file(path, fs::file_size(path) / 2);
        cut = true;
        continue;  // what survives the cut is checked below as a prefix
      }
      want.insert(want.end(), keys.begin(), keys.end());
    }
    test::write_file(dir / "access.log", "");
    LineParser parser(LogFormat::compile(config::kDefaultLogFormat), kBindings, 65536);
    const ReplayPlan plan = plan_replay((dir / "access.log").string(), kBindings);
    std::vector<int> got;
    const ReplayReport report = replay(plan, parser, [&](const pool::LogEvent& e) {
      got.push_back(std::stoi(std::string(e.key)));
    });
    // In order and each once; the truncated file contributes a prefix of its lines.
    ASSERT_TRUE(std::is_sorted(got.begin(), got.end())) << "round " << round;
    ASSERT_EQ(std::adjacent_find(got.begin(), got.end()), got.end()) << "round " << round;
    ASSERT_TRUE(std::includes(got.begin(), got.end(), want.begin(), want.end()))
        << "round " << round << ": a line of an intact file is missing";
    if (!cut) {
      ASSERT_EQ(got, want) << "round " << round;
      ASSERT_EQ(report.files, static_cast<std::size_t>(files)) << "round " << round;
    } else {
      EXPECT_TRUE(std::any_of(report.problems.begin(), report.problems.end(),
                              [](const ReplayProblem& p) { return p.kind == "truncated"; }))
          << "round " << round << ": a truncated .gz was not reported";
    }
    replayed += static_cast<int>(got.size());
  }
  EXPECT_GT(replayed, 3000);
}

}  // namespace
}  // namespace ipm::scanner
