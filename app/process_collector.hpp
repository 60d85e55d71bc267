#pragma once

#include <string_view>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

namespace ipm::app {

/// The standard process metrics (as the Go and Java clients export them), read from
/// /proc/self at each scrape: prometheus-cpp has no process collector.
///   process_cpu_seconds_total, process_open_fds, process_max_fds,
///   process_virtual_memory_bytes, process_resident_memory_bytes, process_start_time_seconds
/// A value that cannot be read is left out of that scrape. Thread-safe (reads files only).
class ProcessCollector final : public prometheus::Collectable {
 public:
  std::vector<prometheus::MetricFamily> Collect() const override;
};

/// The parts of /proc/self/stat the metrics need (exposed for tests).
struct ProcStat {
  double cpu_seconds = 0;     ///< utime + stime
  double start_seconds = 0;   ///< since boot
  double virtual_bytes = 0;   ///< vsize
  double resident_pages = 0;  ///< rss
};
/// Parses the content of /proc/<pid>/stat (the command name may hold spaces and ')').
bool parse_proc_stat(std::string_view text, long ticks_per_second, ProcStat& out);

}  // namespace ipm::app
