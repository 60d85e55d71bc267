#include "app/replay_done.hpp"

#include <sys/resource.h>

#include <cstdio>

#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include "app/log.hpp"

namespace ipm::app {
namespace {

double cpu_seconds_since_process_start() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  const auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) * 1e-6;
  };
  return seconds(ru.ru_utime) + seconds(ru.ru_stime);
}

}  // namespace

ReplayDone::ReplayDone(prometheus::Registry& registry)
    : timestamp_(prometheus::BuildGauge()
                     .Name("ipmanager_replay_done_timestamp_seconds")
                     .Help("When the start-up replay of the access logs ended (Unix time; in "
                           "serve mode, the start); 0 until then")
                     .Register(registry)
                     .Add({})) {}

void ReplayDone::set_now() {
  // Gauge::SetToCurrentTime() has whole seconds; a replay takes a fraction of one.
  timestamp_.Set(
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count());
  done_.store(true, std::memory_order_release);
}

void ReplayDone::mark_parsed(const Figures& f) {
  set_now();
  const double seconds = std::chrono::duration<double>(f.took).count();
  char text[160];
  std::snprintf(text, sizeof text,
                "%.3f s (%.2f M lines/s); %.3f s of CPU since the process started", seconds,
                seconds > 0 ? static_cast<double>(f.lines) / seconds / 1e6 : 0.0,
                cpu_seconds_since_process_start());
  log_info() << "replay done: caught up with the access logs: " << f.lines << " lines, " << f.events
             << " events in " << text;
}

void ReplayDone::mark_nothing_to_replay() {
  set_now();
}

}  // namespace ipm::app
