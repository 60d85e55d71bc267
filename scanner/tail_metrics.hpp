#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <array>
#include <string>

#include "scanner/follower.hpp"

namespace ipm::scanner {

/// The tailer's metrics, registered in the registry passed in (Prometheus naming: `_total`
/// counters, base units):
///   ipmanager_tail_lines_total{result="ok"|"too_long"}, ipmanager_tail_read_bytes_total,
///   ipmanager_tail_rotations_total{kind}, ipmanager_tail_lost_total{reason},
///   ipmanager_tail_lag_bytes{file}, ipmanager_tail_file_open{file} (1 while the log is open
///   and read, 0 while it is missing or unreadable), ipmanager_tail_last_line_timestamp_seconds
///   {file} (Unix time the last line was read; 0 before the first).
/// The `file` label takes only configured paths. Construct and add_file from one thread;
/// the metric objects themselves are thread-safe (prometheus-cpp).
class TailMetrics {
  // Families first: the counters below are initialised from them.
  prometheus::Family<prometheus::Counter>& lines_;
  prometheus::Family<prometheus::Counter>& bytes_;
  prometheus::Family<prometheus::Counter>& rotations_;
  prometheus::Family<prometheus::Counter>& lost_;
  prometheus::Family<prometheus::Gauge>& lag_;
  prometheus::Family<prometheus::Gauge>& open_;
  prometheus::Family<prometheus::Gauge>& last_line_;

 public:
  explicit TailMetrics(prometheus::Registry& registry);
  TailMetrics(const TailMetrics&) = delete;
  TailMetrics& operator=(const TailMetrics&) = delete;

  struct PerFile {
    prometheus::Gauge* lag_bytes;
    prometheus::Gauge* open;
    prometheus::Gauge* last_line_timestamp_seconds;
  };
  PerFile add_file(const std::string& path);
  prometheus::Counter& rotation(RotationKind kind) {
    return *rotation_[static_cast<std::size_t>(kind)];
  }

  prometheus::Counter& lines_ok;
  prometheus::Counter& lines_too_long;
  prometheus::Counter& read_bytes;
  prometheus::Counter& lost_partial_line;
  prometheus::Counter& lost_truncated_tail;

 private:
  std::array<prometheus::Counter*, 4> rotation_{};
};

}  // namespace ipm::scanner
