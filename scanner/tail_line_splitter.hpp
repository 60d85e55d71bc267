#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ipm::scanner {

/// Cuts a byte stream into '\n'-terminated lines. A partial last line waits for more bytes.
/// Memory is bounded: a line longer than max_line_bytes is dropped (its bytes up to the next
/// '\n' are skipped) and counted, never buffered. Not thread-safe.
class TailLineSplitter {
 public:
  explicit TailLineSplitter(std::size_t max_line_bytes) : max_(max_line_bytes) {}

  /// Appends to `lines` each line completed by `chunk`, without its '\n' (and without a
  /// trailing '\r'), in order. A line that lies whole in `chunk` is a view into it (no
  /// copy); only the one line a chunk can finish after an earlier chunk began it is a view
  /// into the splitter. So every view is valid while `chunk` is and until the next feed():
  /// the caller may handle a chunk's lines as one batch.
  void feed(std::string_view chunk, std::vector<std::string_view>& lines);

  /// Skips bytes up to and including the next '\n' (used when starting mid-line).
  void skip_to_next_line() {
    partial_.clear();
    discarding_ = true;
  }

  /// Drops the partial line, if any; returns the number of bytes dropped.
  std::size_t drop_partial();

  std::size_t partial_bytes() const { return discarding_ ? 0 : partial_.size(); }
  bool has_partial() const { return discarding_ || !partial_.empty(); }
  std::uint64_t too_long() const { return too_long_; }

 private:
  std::size_t max_;
  std::string partial_;      ///< the beginning of a line whose '\n' has not come yet
  std::string joined_;       ///< the last line completed from a partial one (see feed)
  bool discarding_ = false;  ///< inside an over-long line: skip up to the next '\n'
  std::uint64_t too_long_ = 0;
};

}  // namespace ipm::scanner
