#include "scanner/tail_metrics.hpp"

namespace ipm::scanner {

TailMetrics::TailMetrics(prometheus::Registry& registry)
    : lines_(prometheus::BuildCounter()
                 .Name("ipmanager_tail_lines_total")
                 .Help("Access-log lines read by the tailer, by result (too_long: cut at "
                       "max_line_bytes and skipped)")
                 .Register(registry)),
      bytes_(prometheus::BuildCounter()
                 .Name("ipmanager_tail_read_bytes_total")
                 .Help("Bytes read from followed access logs")
                 .Register(registry)),
      rotations_(prometheus::BuildCounter()
                     .Name("ipmanager_tail_rotations_total")
                     .Help("Log rotations seen, by kind")
                     .Register(registry)),
      lost_(prometheus::BuildCounter()
                .Name("ipmanager_tail_lost_total")
                .Help("Incidents where log data could not be read, by reason")
                .Register(registry)),
      lag_(prometheus::BuildGauge()
               .Name("ipmanager_tail_lag_bytes")
               .Help("Bytes written to a followed log and not read yet")
               .Register(registry)),
      open_(prometheus::BuildGauge()
                .Name("ipmanager_tail_file_open")
                .Help("1 while a followed log is open and read; 0 while it is missing or cannot "
                      "be opened (permissions)")
                .Register(registry)),
      last_line_(prometheus::BuildGauge()
                     .Name("ipmanager_tail_last_line_timestamp_seconds")
                     .Help("Unix time the tailer last read a line from this log; 0 before the "
                           "first")
                     .Register(registry)),
      lines_ok(lines_.Add({{"result", "ok"}})),
      lines_too_long(lines_.Add({{"result", "too_long"}})),
      read_bytes(bytes_.Add({})),
      lost_partial_line(lost_.Add({{"reason", "partial_line"}})),
      lost_truncated_tail(lost_.Add({{"reason", "truncated_tail"}})) {
  for (auto kind : {RotationKind::renamed, RotationKind::deleted, RotationKind::copytruncate,
                    RotationKind::symlink}) {
    rotation_[static_cast<std::size_t>(kind)] =
        &rotations_.Add({{"kind", std::string(to_string(kind))}});
  }
}

TailMetrics::PerFile TailMetrics::add_file(const std::string& path) {
  return {&lag_.Add({{"file", path}}), &open_.Add({{"file", path}}),
          &last_line_.Add({{"file", path}})};
}

}  // namespace ipm::scanner
