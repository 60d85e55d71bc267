#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <ostream>

namespace ipm::scanner {

/// Progress of a parse-mode replay, for the operator. Silent for the first second; after
/// that, on a terminal, one line rewritten in place (files, bytes, lines, lines/s) at most
/// five times a second, and otherwise one log line every `log_every` (default 5 s).
/// finish() ends the line and prints a summary when anything was printed.
/// The clock is injected so tests need not wait. Not thread-safe.
class ReplayProgress {
 public:
  using Clock = std::chrono::steady_clock;
  using Now = std::function<Clock::time_point()>;

  ReplayProgress(std::ostream& out, bool terminal, Now now = Clock::now,
                 std::chrono::milliseconds log_every = std::chrono::seconds(5));

  /// stderr, as a terminal when isatty(2).
  static ReplayProgress for_stderr();

  void start(std::size_t files_total, std::uint64_t bytes_total);
  /// Cheap enough to call every few thousand lines: it reads the clock and returns.
  void update(std::size_t files_done, std::uint64_t bytes_done, std::uint64_t lines);
  void finish(std::size_t files_done, std::uint64_t bytes_done, std::uint64_t lines);

 private:
  void print(std::size_t files_done, std::uint64_t bytes_done, std::uint64_t lines,
             Clock::time_point t, bool final);

  std::ostream& out_;
  bool terminal_;
  Now now_;
  std::chrono::milliseconds log_every_;
  Clock::time_point started_{};
  Clock::time_point last_print_{};
  bool printed_ = false;
  std::size_t files_total_ = 0;
  std::uint64_t bytes_total_ = 0;
};

}  // namespace ipm::scanner
