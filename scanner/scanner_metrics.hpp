#pragma once

#include <array>

#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include "scanner/line_parser.hpp"

namespace ipm::scanner {

/// The scanner's line counters in the shared registry:
///   ipmanager_scanner_lines_total{result="parsed|no_match|unknown_port|...}"
///   ipmanager_scanner_bytes_total
///   ipmanager_scanner_replay_problems_total{problem="empty|truncated|corrupt|missing|
///                                            unreadable|out_of_order"}
/// Callers count locally (LineParser::take_counts) and flush per batch with add(), so the
/// per-line path touches no atomics. Thread-safe (prometheus counters are atomic).
class ScannerMetrics {
 public:
  explicit ScannerMetrics(prometheus::Registry& registry);
  ScannerMetrics(const ScannerMetrics&) = delete;
  ScannerMetrics& operator=(const ScannerMetrics&) = delete;

  void add(const LineCounts& counts);
  void add_replay_problem(std::string_view problem);

 private:
  std::array<prometheus::Counter*, kLineResultCount> lines_{};
  prometheus::Counter* bytes_ = nullptr;
  prometheus::Family<prometheus::Counter>* problems_ = nullptr;
};

}  // namespace ipm::scanner
