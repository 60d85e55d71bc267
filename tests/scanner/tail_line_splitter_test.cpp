#include "scanner/tail_line_splitter.hpp"

#include <random>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace ipm::scanner {
namespace {

using ::testing::ElementsAre;

std::vector<std::string> copies(const std::vector<std::string_view>& views) {
  return {views.begin(), views.end()};
}

TEST(TailLineSplitterTest, whole_lines_are_views_into_the_chunk_without_cr) {
  TailLineSplitter s(100);
  const std::string chunk = "a\r\nbb\n\nccc";
  std::vector<std::string_view> lines;
  s.feed(chunk, lines);
  EXPECT_THAT(copies(lines), ElementsAre("a", "bb", ""));
  EXPECT_EQ(lines[1].data(), chunk.data() + 3) << "no copy";
  EXPECT_EQ(s.partial_bytes(), 3U);
}

TEST(TailLineSplitterTest, a_joined_line_stays_valid_for_the_whole_batch) {
  TailLineSplitter s(100);
  std::vector<std::string_view> lines;
  s.feed("first-ha", lines);
  EXPECT_TRUE(lines.empty());
  // Finishes the joined line, then whole lines, then starts another partial one: the joined
  // line's view must survive the rest of the chunk.
  s.feed("lf\nsecond\nthi", lines);
  EXPECT_THAT(copies(lines), ElementsAre("first-half", "second"));
  lines.clear();
  s.feed("rd\n", lines);
  EXPECT_THAT(copies(lines), ElementsAre("third"));
}

TEST(TailLineSplitterTest, over_long_lines_are_counted_once_and_skipped) {
  TailLineSplitter s(4);
  std::vector<std::string_view> lines;
  s.feed("1234\n12345\nok\n", lines);  // exactly the cap is kept
  EXPECT_THAT(copies(lines), ElementsAre("1234", "ok"));
  EXPECT_EQ(s.too_long(), 1U);
  lines.clear();
  s.feed("123", lines);  // a partial line that becomes too long over three chunks
  s.feed("45", lines);
  s.feed("678\nnext\n", lines);
  EXPECT_THAT(copies(lines), ElementsAre("next"));
  EXPECT_EQ(s.too_long(), 2U);
  lines.clear();
  s.feed("123456789", lines);  // too long already as a partial last line
  EXPECT_EQ(s.partial_bytes(), 0U) << "not buffered";
  s.feed("0\nz\n", lines);
  EXPECT_THAT(copies(lines), ElementsAre("z"));
  EXPECT_EQ(s.too_long(), 3U);
}

TEST(TailLineSplitterTest, skip_and_drop) {
  TailLineSplitter s(100);
  std::vector<std::string_view> lines;
  s.skip_to_next_line();
  s.feed("tail of a line\nnext\npart", lines);
  EXPECT_THAT(copies(lines), ElementsAre("next"));
  EXPECT_EQ(s.drop_partial(), 4U);
  lines.clear();
  s.feed("new\n", lines);
  EXPECT_THAT(copies(lines), ElementsAre("new"));
}

// However the stream is cut into chunks, the lines are those of the whole stream.
TEST(TailLineSplitterTest, any_chunking_gives_the_same_lines) {
  std::mt19937 random(3);
  std::string stream;
  std::vector<std::string> expected;
  for (int i = 0; i < 500; ++i) {
    std::string line(random() % 40, static_cast<char>('a' + i % 26));
    stream += line + "\n";
    if (line.size() <= 30)
      expected.push_back(line);
  }
  for (int round = 0; round < 20; ++round) {
    TailLineSplitter s(30);
    std::vector<std::string> got;
    for (std::size_t at = 0; at < stream.size();) {
      const std::size_t n = std::min<std::size_t>(1 + random() % 100, stream.size() - at);
      std::vector<std::string_view> lines;
      s.feed(std::string_view(stream).substr(at, n), lines);
      got.insert(got.end(), lines.begin(), lines.end());
      at += n;
    }
    ASSERT_EQ(got, expected) << "round " << round;
    EXPECT_EQ(s.too_long(), 500 - expected.size());
  }
}

}  // namespace
}  // namespace ipm::scanner
