#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "app/log.hpp"

namespace ipm::app {
namespace {

// Points stderr at a temporary file for the test's life, and reads back what reached it.
class StderrCapture {
 public:
  StderrCapture() : file_(std::tmpfile()), saved_(::dup(STDERR_FILENO)) {
    ::dup2(::fileno(file_), STDERR_FILENO);
  }
  ~StderrCapture() {
    ::dup2(saved_, STDERR_FILENO);
    ::close(saved_);
    std::fclose(file_);
  }
  StderrCapture(const StderrCapture&) = delete;
  StderrCapture& operator=(const StderrCapture&) = delete;

  /// The message parts of the lines written so far, in order, one per line.
  std::string messages() const {
    std::string out;
    char buf[4096];
    std::FILE* in = std::fopen(("/proc/self/fd/" + std::to_string(::fileno(file_))).c_str(), "r");
    while (in != nullptr && std::fgets(buf, sizeof buf, in) != nullptr) {
      std::string line(buf);
      const auto at = line.find(" info ") != std::string::npos ? line.find(" info ") + 6
                                                               : line.find(" warn ") + 6;
      out += line.substr(at);
    }
    if (in != nullptr)
      std::fclose(in);
    return out;
  }

 private:
  std::FILE* file_;
  int saved_;
};

TEST(LogBatchTest, lines_wait_for_a_warning_a_flush_or_the_end_and_keep_their_order) {
  StderrCapture err;
  log_info() << "before";
  EXPECT_EQ(err.messages(), "before\n");
  {
    LogBatch batch;
    log_info() << "one";
    log_info() << "two";
    EXPECT_EQ(err.messages(), "before\n");
    log_warn() << "three";
    EXPECT_EQ(err.messages(), "before\none\ntwo\nthree\n");
    log_info() << "four";
    EXPECT_EQ(err.messages(), "before\none\ntwo\nthree\n");
    LogBatch::flush();
    EXPECT_EQ(err.messages(), "before\none\ntwo\nthree\nfour\n");
    {
      LogBatch nested;
      log_info() << "five";
    }
    EXPECT_EQ(err.messages(), "before\none\ntwo\nthree\nfour\n");  // the outer one still lives
    log_info() << "six";
  }
  EXPECT_EQ(err.messages(), "before\none\ntwo\nthree\nfour\nfive\nsix\n");
  log_info() << "after";
  EXPECT_EQ(err.messages(), "before\none\ntwo\nthree\nfour\nfive\nsix\nafter\n");
}

TEST(LogBatchTest, a_full_block_is_written_without_waiting) {
  StderrCapture err;
  LogBatch batch;
  const std::string filler(1000, 'x');
  std::size_t lines = 0;
  while (err.messages().empty() && lines < 1000) {
    log_info() << filler;
    ++lines;
  }
  EXPECT_GT(lines, 50u);   // 64 KB of lines gathered before the first write
  EXPECT_LT(lines, 100u);  // and written once that much was there
}

}  // namespace
}  // namespace ipm::app
