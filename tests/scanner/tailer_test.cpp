#include "scanner/tailer.hpp"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <unistd.h>
#include <zlib.h>

#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "tests/support/temp_dir.hpp"

namespace ipm::scanner {
namespace {

namespace fs = std::filesystem;
using test::TempDir;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;

void append(const fs::path& p, std::string_view text) {
  const int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0) << p;
  ASSERT_EQ(::write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  ::close(fd);
}

void gzip_file(const fs::path& from, const fs::path& to) {
  const std::string content = test::read_file(from);
  gzFile out = ::gzopen(to.c_str(), "wb");
  ASSERT_NE(out, nullptr);
  ASSERT_EQ(::gzwrite(out, content.data(), static_cast<unsigned>(content.size())),
            static_cast<int>(content.size()));
  ::gzclose(out);
}

double metric_value(prometheus::Registry& registry, const std::string& name,
                    const std::string& label = "", const std::string& value = "") {
  for (const auto& family : registry.Collect()) {
    if (family.name != name)
      continue;
    for (const auto& m : family.metric) {
      const bool match = label.empty() || std::any_of(m.label.begin(), m.label.end(), [&](auto& l) {
                           return l.name == label && l.value == value;
                         });
      if (match)
        return family.type == prometheus::MetricType::Counter ? m.counter.value : m.gauge.value;
    }
  }
  return -1;
}

class TailerTest : public ::testing::Test {
 protected:
  ~TailerTest() override {
    tailer_.reset();
    ioc_.restart();
    ioc_.run_for(std::chrono::milliseconds(100));
  }

  void start(std::vector<fs::path> paths, bool at_end = false, std::size_t max_line = 1024) {
    TailerOptions o;
    for (const auto& p : paths)
      o.paths.push_back(p.string());
    o.start_at_end = at_end;
    o.max_line_bytes = max_line;
    o.reconcile_interval = std::chrono::milliseconds(50);
    o.log = [this](std::string_view m) { notices_.emplace_back(m); };
    o.on_caught_up = [this] { caught_up_at_.push_back(lines_.size()); };
    tailer_ = std::make_unique<Tailer>(
        ioc_.get_executor(), o,
        [this](std::span<const std::string_view> lines, const FileId& id) {
          ++batches_;
          for (const std::string_view line : lines) {
            lines_.emplace_back(line);
            files_.push_back(id.index);
          }
        },
        registry_);
    tailer_->start();
  }

  // Runs the event loop until `n` lines arrived (bounded), then a few reconcile periods
  // more, so that a duplicate or a spurious line would show up.
  void run_until_lines(std::size_t n) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (lines_.size() < n && std::chrono::steady_clock::now() < deadline) {
      ioc_.run_for(std::chrono::milliseconds(10));
    }
    ioc_.run_for(std::chrono::milliseconds(200));
  }

  double rotations(const std::string& kind) {
    return metric_value(registry_, "ipmanager_tail_rotations_total", "kind", kind);
  }

  TempDir dir_{"ipm-tail"};
  fs::path log_ = dir_ / "access.log";
  boost::asio::io_context ioc_;
  prometheus::Registry registry_;
  std::unique_ptr<Tailer> tailer_;
  std::vector<std::string> lines_;
  std::vector<std::size_t> files_;
  std::vector<std::string> notices_;
  std::vector<std::size_t> caught_up_at_;  ///< lines received at each on_caught_up call
  std::size_t batches_ = 0;                ///< sink calls
};

TEST_F(TailerTest, partial_last_line_waits_for_its_newline) {
  append(log_, "a\nb");
  start({log_});
  run_until_lines(1);
  EXPECT_THAT(lines_, ElementsAre("a"));
  append(log_, "c\n");
  run_until_lines(2);
  EXPECT_THAT(lines_, ElementsAre("a", "bc"));
}

TEST_F(TailerTest, serve_mode_starts_at_the_end_and_skips_a_partial_line) {
  append(log_, "old\npar");
  start({log_}, /*at_end=*/true);
  append(log_, "tial\nnew\n");
  run_until_lines(1);
  EXPECT_THAT(lines_, ElementsAre("new"));
}

TEST_F(TailerTest, parse_mode_starts_at_the_beginning) {
  append(log_, "old\n");
  start({log_});
  append(log_, "new\n");
  run_until_lines(2);
  EXPECT_THAT(lines_, ElementsAre("old", "new"));
  EXPECT_EQ(metric_value(registry_, "ipmanager_tail_lines_total", "result", "ok"), 2);
  EXPECT_EQ(metric_value(registry_, "ipmanager_tail_read_bytes_total"), 8);
}

TEST_F(TailerTest, rename_and_create_drains_the_old_file_then_reads_the_new_one) {
  append(log_, "a\nb\n");
  start({log_});
  run_until_lines(2);
  append(log_, "c\n");  // not read yet when the rename happens
  fs::rename(log_, dir_ / "access.log.1");
  append(dir_ / "access.log.1", "d\n");  // nginx writes the old file until it reopens
  append(log_, "e\n");                   // logrotate `create`, then nginx reopened
  append(log_, "f\n");
  run_until_lines(6);
  EXPECT_THAT(lines_, ElementsAre("a", "b", "c", "d", "e", "f"));
  EXPECT_EQ(rotations("renamed"), 1);
}

TEST_F(TailerTest, writes_to_the_renamed_file_before_reopen_are_read_while_new_file_is_empty) {
  append(log_, "a\n");
  start({log_});
  run_until_lines(1);
  fs::rename(log_, dir_ / "access.log.1");
  append(log_, "");  // created empty, nginx not yet told
  run_until_lines(1);
  append(dir_ / "access.log.1", "b\n");
  run_until_lines(2);
  append(log_, "c\n");
  run_until_lines(3);
  EXPECT_THAT(lines_, ElementsAre("a", "b", "c"));
}

TEST_F(TailerTest, copytruncate_reads_the_missed_tail_from_the_copy) {
  append(log_, "a\nb\n");
  start({log_});
  run_until_lines(2);
  append(log_, "c\n");
  fs::copy_file(log_, dir_ / "access.log.1");
  fs::resize_file(log_, 0);
  append(log_, "d\n");
  run_until_lines(4);
  EXPECT_THAT(lines_, ElementsAre("a", "b", "c", "d"));
  EXPECT_EQ(rotations("copytruncate"), 1);
}

TEST_F(TailerTest, copytruncate_regrown_past_the_old_offset_is_detected_by_its_head) {
  append(log_, "line-1\nline-2\n");
  start({log_});
  run_until_lines(2);
  append(log_, "line-3\n");
  fs::copy_file(log_, dir_ / "access.log.1");
  fs::resize_file(log_, 0);
  append(log_, "new-1 longer than before\nnew-2\n");  // 31 bytes > the 14 we had read
  run_until_lines(5);
  EXPECT_THAT(lines_,
              ElementsAre("line-1", "line-2", "line-3", "new-1 longer than before", "new-2"));
}

TEST_F(TailerTest, copytruncate_finds_an_already_compressed_copy) {
  append(log_, "a1\nb1\n");
  start({log_});
  run_until_lines(2);
  append(log_, "c1\n");
  gzip_file(log_, dir_ / "access.log.1.gz");  // logrotate `compress` without delaycompress
  fs::resize_file(log_, 0);
  append(log_, "d1\n");
  run_until_lines(4);
  EXPECT_THAT(lines_, ElementsAre("a1", "b1", "c1", "d1"));
}

TEST_F(TailerTest, truncation_without_a_copy_is_counted_and_the_new_content_read) {
  append(log_, "a\n");
  start({log_});
  run_until_lines(1);
  append(log_, "lost\n");
  fs::resize_file(log_, 0);
  append(log_, "b\n");
  run_until_lines(2);
  EXPECT_THAT(lines_, ElementsAre("a", "b"));
  EXPECT_EQ(metric_value(registry_, "ipmanager_tail_lost_total", "reason", "truncated_tail"), 1);
}

TEST_F(TailerTest, deleted_while_open_is_drained_then_the_recreated_file_read) {
  append(log_, "a\n");
  start({log_});
  run_until_lines(1);
  const int writer = ::open(log_.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  ASSERT_GE(writer, 0);
  ASSERT_EQ(::write(writer, "b\n", 2), 2);
  fs::remove(log_);
  ASSERT_EQ(::write(writer, "c\n", 2), 2);  // the writer still holds the deleted file
  ::close(writer);
  run_until_lines(3);
  append(log_, "d\n");
  run_until_lines(4);
  EXPECT_THAT(lines_, ElementsAre("a", "b", "c", "d"));
  EXPECT_EQ(rotations("deleted"), 1);
}

TEST_F(TailerTest, missing_at_start_is_said_once_and_followed_when_created) {
  start({log_}, /*at_end=*/true);
  run_until_lines(0);
  append(log_, "first\n");
  run_until_lines(1);
  EXPECT_THAT(lines_, ElementsAre("first"));
  EXPECT_EQ(std::count_if(notices_.begin(), notices_.end(),
                          [](const std::string& n) { return n.find("no such file") != n.npos; }),
            1);
}

TEST_F(TailerTest, swapped_symlink_drains_the_old_target_then_reads_the_new_one) {
  fs::create_directory(dir_ / "data");
  append(dir_ / "data/one.log", "a\n");
  fs::create_symlink(dir_ / "data/one.log", log_);
  start({log_});
  run_until_lines(1);
  append(dir_ / "data/one.log", "b\n");
  append(dir_ / "data/two.log", "c\n");
  fs::create_symlink(dir_ / "data/two.log", dir_ / "tmp.link");
  fs::rename(dir_ / "tmp.link", log_);  // atomic swap
  run_until_lines(3);
  append(dir_ / "data/two.log", "d\n");  // seen through the watch on the target's directory
  run_until_lines(4);
  EXPECT_THAT(lines_, ElementsAre("a", "b", "c", "d"));
  EXPECT_EQ(rotations("symlink"), 1);
}

TEST_F(TailerTest, compressing_a_rotated_file_never_reads_it_again) {
  append(log_, "a\n");
  start({log_});
  run_until_lines(1);
  fs::rename(log_, dir_ / "access.log.1");
  append(log_, "b\n");
  run_until_lines(2);
  gzip_file(dir_ / "access.log.1", dir_ / "access.log.1.gz");
  fs::remove(dir_ / "access.log.1");
  append(log_, "c\n");
  run_until_lines(3);
  EXPECT_THAT(lines_, ElementsAre("a", "b", "c"));
}

TEST_F(TailerTest, over_long_line_is_skipped_and_counted_with_bounded_memory) {
  start({log_}, false, /*max_line=*/16);
  append(log_, "short\n" + std::string(40, 'x'));
  run_until_lines(1);
  append(log_, std::string(1 << 20, 'y'));  // a megabyte without a newline
  append(log_, "\nok\n");
  run_until_lines(2);
  EXPECT_THAT(lines_, ElementsAre("short", "ok"));
  EXPECT_EQ(metric_value(registry_, "ipmanager_tail_lines_total", "result", "too_long"), 1);
}

TEST_F(TailerTest, several_files_keep_their_own_order_and_identity) {
  const auto other = dir_ / "other.log";
  start({log_, other});
  append(log_, "a1\n");
  append(other, "b1\n");
  append(log_, "a2\n");
  append(other, "b2\n");
  run_until_lines(4);
  std::vector<std::string> from_first;
  std::vector<std::string> from_second;
  for (std::size_t i = 0; i < lines_.size(); ++i) {
    (files_[i] == 0 ? from_first : from_second).push_back(lines_[i]);
  }
  EXPECT_THAT(from_first, ElementsAre("a1", "a2"));
  EXPECT_THAT(from_second, ElementsAre("b1", "b2"));
}

TEST_F(TailerTest, follow_adds_a_log_from_its_end_or_from_its_creation) {
  // Per-IP logs of egress IPs added by a reload: what such a log held before is not read.
  const auto added = dir_ / "10.0.0.9.access.log";
  const auto later = dir_ / "10.0.0.10.access.log";
  append(added, "old\n");
  start({log_}, /*at_end=*/true);
  append(log_, "a1\n");
  run_until_lines(1);
  tailer_->follow(added.string());
  tailer_->follow(later.string());  // does not exist yet: read from its start once created
  tailer_->follow(log_.string());   // already followed: no second reader
  ioc_.poll();                      // the follows are in effect (they run on the executor)
  append(added, "b1\n");
  append(later, "c1\n");
  append(log_, "a2\n");
  run_until_lines(4);
  std::map<std::size_t, std::vector<std::string>> by_file;
  for (std::size_t i = 0; i < lines_.size(); ++i)
    by_file[files_[i]].push_back(lines_[i]);
  EXPECT_THAT(by_file[0], ElementsAre("a1", "a2"));
  EXPECT_THAT(by_file[1], ElementsAre("b1"));
  EXPECT_THAT(by_file[2], ElementsAre("c1"));
  EXPECT_EQ(by_file.size(), 3U);
}

TEST_F(TailerTest, large_backlog_is_read_in_capped_rounds_in_order) {
  std::string content;
  std::vector<std::string> expected;
  for (int i = 0; i < 200000; ++i) {
    expected.push_back("line " + std::to_string(i) + " with some padding to make it longer");
    content += expected.back() + "\n";
  }
  append(log_, content);  // ~9 MB: more than one poll's budget
  start({log_});
  EXPECT_THAT(caught_up_at_, ElementsAre()) << "the backlog is read in later rounds";
  run_until_lines(expected.size());
  EXPECT_THAT(lines_, ElementsAreArray(expected));
  // In batches of one read (64 KB), not a call per line.
  EXPECT_GE(batches_, content.size() / (64 * 1024));
  EXPECT_LE(batches_, content.size() / (64 * 1024) + 1);
  // Caught up once, after the last line of the backlog, and never again.
  append(log_, "one more\n");
  run_until_lines(expected.size() + 1);
  EXPECT_THAT(caught_up_at_, ElementsAre(expected.size()));
}

TEST_F(TailerTest, caught_up_in_start_when_the_logs_fit_one_poll_or_are_missing) {
  append(log_, "a\nb\n");
  start({log_, dir_ / "missing.log"});
  EXPECT_THAT(caught_up_at_, ElementsAre(2U));
  append(log_, "c\n");
  run_until_lines(3);
  EXPECT_THAT(caught_up_at_, ElementsAre(2U));
}

TEST(ExpandLogPathsTest, percent_s_gives_one_path_per_ip) {
  EXPECT_THAT(expand_log_paths("/l/%s.log", {"10.0.0.1", "10.0.0.2"}),
              ElementsAre("/l/10.0.0.1.log", "/l/10.0.0.2.log"));
  EXPECT_THAT(expand_log_paths("/l/a.log", {"10.0.0.1"}), ElementsAre("/l/a.log"));
}

}  // namespace
}  // namespace ipm::scanner
