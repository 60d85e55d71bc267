// Resident memory of 1,000 IPs x 1,000 history entries each (the budget: well under
// 64 MB for the whole process). Prints VmRSS before and after filling the engine.
// The Go tool's README quotes its heap for 300 IPs x 1,000 entries only as a pprof screenshot.
//
//   build/release/tests/bench/pool_memory_bench [ips] [entries]

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "strategy/engine.hpp"

namespace {

double rss_mb() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0)
      return std::strtod(line.c_str() + 6, nullptr) / 1024.0;  // kB -> MB
  }
  return -1.0;
}

}  // namespace

int main(int argc, char** argv) {
  const int ips = argc > 1 ? std::atoi(argv[1]) : 1000;
  const int entries = argc > 2 ? std::atoi(argv[2]) : 1000;
  const double before = rss_mb();

  ipm::config::Config cfg;
  cfg.max_history_log_each_ip = static_cast<std::uint32_t>(entries);
  cfg.max_ejected_percent = 0;  // keep every IP available: every event is judged
  std::vector<ipm::pool::Egress> egresses;
  std::vector<std::string> names;
  for (int i = 0; i < ips; ++i) {
    names.push_back("10." + std::to_string(i / 65536) + "." + std::to_string(i / 256 % 256) + "." +
                    std::to_string(i % 256));
    egresses.push_back({.ip = names.back(),
                        .port = static_cast<std::uint16_t>(20000 + i % 40000),
                        .server_name = {},
                        .weight = 1});
  }
  const auto start = ipm::pool::TimePoint(std::chrono::seconds(1'800'000'000));
  ipm::strategy::Engine engine(cfg, egresses, start);
  std::vector<std::string> keys;
  for (int k = 0; k < 500; ++k)
    keys.push_back("egress-key-" + std::to_string(k));
  std::uint64_t n = 0;
  for (int e = 0; e < entries; ++e) {
    for (int i = 0; i < ips; ++i, ++n) {
      engine.apply(ipm::pool::LogEvent{.ip = names[static_cast<std::size_t>(i)],
                                       .port = 0,
                                       .time = start + std::chrono::milliseconds(n),
                                       .status = n % 10 == 0 ? 404 : 200,
                                       .upstream_status = 200,
                                       .key = keys[n % keys.size()],
                                       .target = "target" + std::to_string(n % 50) + ".example",
                                       .latency_seconds = 0.1F});
    }
  }
  std::size_t held = 0;
  for (const auto& r : engine.ips())
    held += r.history.size();
  const double after = rss_mb();
  std::printf("ips=%d entries_per_ip=%d history_entries_held=%zu entry_bytes=%zu\n", ips, entries,
              held, sizeof(ipm::pool::HistoryEntry));
  std::printf("rss_before_mb=%.1f rss_after_mb=%.1f engine_mb=%.1f\n", before, after,
              after - before);
  return 0;
}
