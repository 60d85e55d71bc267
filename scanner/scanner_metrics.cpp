#include "scanner/scanner_metrics.hpp"

#include <string>

namespace ipm::scanner {

ScannerMetrics::ScannerMetrics(prometheus::Registry& registry) {
  auto& lines = prometheus::BuildCounter()
                    .Name("ipmanager_scanner_lines_total")
                    .Help("Access-log lines read by the scanner, by what became of them")
                    .Register(registry);
  for (std::size_t r = 0; r < kLineResultCount; ++r) {
    lines_[r] = &lines.Add({{"result", std::string(to_string(static_cast<LineResult>(r)))}});
  }
  bytes_ = &prometheus::BuildCounter()
                .Name("ipmanager_scanner_bytes_total")
                .Help("Access-log bytes read by the scanner, newlines included")
                .Register(registry)
                .Add({});
  problems_ = &prometheus::BuildCounter()
                   .Name("ipmanager_scanner_replay_problems_total")
                   .Help("Rotated log files the parse-mode replay found damaged or missing")
                   .Register(registry);
  // Every kind from the start, at 0: the family is there before the first problem (the
  // README lists it) and rate() sees the first one.
  for (const char* kind :
       {"missing", "both_forms", "empty", "unreadable", "truncated", "corrupt", "out_of_order"})
    problems_->Add({{"problem", kind}});
}

void ScannerMetrics::add(const LineCounts& counts) {
  for (std::size_t r = 0; r < kLineResultCount; ++r) {
    if (counts.lines[r] != 0) {
      lines_[r]->Increment(static_cast<double>(counts.lines[r]));
    }
  }
  if (counts.bytes != 0) {
    bytes_->Increment(static_cast<double>(counts.bytes));
  }
}

void ScannerMetrics::add_replay_problem(std::string_view problem) {
  problems_->Add({{"problem", std::string(problem)}}).Increment();
}

}  // namespace ipm::scanner
