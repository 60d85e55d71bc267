#include "scanner/replay_progress.hpp"

#include <unistd.h>

#include <cstdio>
#include <iostream>

namespace ipm::scanner {
namespace {

constexpr auto kQuiet = std::chrono::seconds(1);
constexpr auto kTerminalRefresh = std::chrono::milliseconds(200);

std::string megabytes(std::uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MB", static_cast<double>(bytes) / 1e6);
  return buf;
}

}  // namespace

ReplayProgress::ReplayProgress(std::ostream& out, bool terminal, Now now,
                               std::chrono::milliseconds log_every)
    : out_(out), terminal_(terminal), now_(std::move(now)), log_every_(log_every) {}

ReplayProgress ReplayProgress::for_stderr() {
  return ReplayProgress(std::cerr, ::isatty(STDERR_FILENO) == 1);
}

void ReplayProgress::start(std::size_t files_total, std::uint64_t bytes_total) {
  files_total_ = files_total;
  bytes_total_ = bytes_total;
  started_ = now_();
  last_print_ = started_;
  printed_ = false;
}

void ReplayProgress::update(std::size_t files_done, std::uint64_t bytes_done, std::uint64_t lines) {
  const Clock::time_point t = now_();
  if (t - started_ < kQuiet) {
    return;
  }
  const auto every = terminal_ ? std::chrono::duration_cast<Clock::duration>(kTerminalRefresh)
                               : std::chrono::duration_cast<Clock::duration>(log_every_);
  if (printed_ && t - last_print_ < every) {
    return;
  }
  print(files_done, bytes_done, lines, t, false);
}

void ReplayProgress::finish(std::size_t files_done, std::uint64_t bytes_done, std::uint64_t lines) {
  const Clock::time_point t = now_();
  if (printed_ || t - started_ >= kQuiet) {
    print(files_done, bytes_done, lines, t, true);
  }
}

void ReplayProgress::print(std::size_t files_done, std::uint64_t bytes_done, std::uint64_t lines,
                           Clock::time_point t, bool final) {
  const double seconds = std::chrono::duration<double>(t - started_).count();
  const double rate = seconds > 0 ? static_cast<double>(lines) / seconds : 0.0;
  char rate_text[32];
  std::snprintf(rate_text, sizeof rate_text, "%.0f", rate);
  char time_text[32];
  std::snprintf(time_text, sizeof time_text, "%.1f", seconds);
  const std::string text = std::string(final ? "replay done: " : "replay: ") +
                           std::to_string(files_done) + "/" + std::to_string(files_total_) +
                           " files, " + megabytes(bytes_done) + "/" + megabytes(bytes_total_) +
                           ", " + std::to_string(lines) + " lines, " + rate_text + " lines/s, " +
                           time_text + " s";
  if (terminal_) {
    out_ << "\r\x1b[K" << text << (final ? "\n" : "") << std::flush;
  } else {
    out_ << "ipmanager: " << text << "\n" << std::flush;
  }
  printed_ = true;
  last_print_ = t;
}

}  // namespace ipm::scanner
