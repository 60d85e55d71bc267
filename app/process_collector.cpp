#include "app/process_collector.hpp"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <charconv>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

namespace ipm::app {
namespace {

std::optional<std::string> read_text(const char* path) {
  std::ifstream in(path);
  if (!in)
    return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

prometheus::MetricFamily family(std::string name, std::string help, prometheus::MetricType type,
                                double value) {
  prometheus::MetricFamily f{std::move(name), std::move(help), type, {}};
  prometheus::ClientMetric m;
  if (type == prometheus::MetricType::Counter)
    m.counter.value = value;
  else
    m.gauge.value = value;
  f.metric.push_back(std::move(m));
  return f;
}

std::optional<double> open_fds() {
  DIR* d = ::opendir("/proc/self/fd");
  if (d == nullptr)
    return std::nullopt;
  double n = 0;
  while (const dirent* e = ::readdir(d)) {
    if (e->d_name[0] != '.')
      ++n;
  }
  ::closedir(d);
  return n - 1;  // the descriptor opendir itself holds
}

// Seconds since the epoch at boot, from /proc/stat's btime.
std::optional<double> boot_time() {
  const auto text = read_text("/proc/stat");
  if (!text)
    return std::nullopt;
  const auto at = text->find("\nbtime ");
  if (at == std::string::npos)
    return std::nullopt;
  return std::strtod(text->c_str() + at + 7, nullptr);
}

}  // namespace

bool parse_proc_stat(std::string_view text, long ticks_per_second, ProcStat& out) {
  // pid (comm) state ppid ...: fields counted from after the last ')'.
  const auto close = text.rfind(')');
  if (close == std::string_view::npos || ticks_per_second <= 0)
    return false;
  std::istringstream rest{std::string(text.substr(close + 1))};
  std::vector<std::string> fields;
  for (std::string f; rest >> f;)
    fields.push_back(std::move(f));
  // Field numbers of proc(5), 1-based, minus the 2 before the ')': utime 14, stime 15,
  // starttime 22, vsize 23, rss 24.
  auto field = [&](std::size_t number, double& value) {
    const std::size_t i = number - 3;
    if (i >= fields.size())
      return false;
    const std::string& f = fields[i];
    long long v = 0;
    const auto [end, ec] = std::from_chars(f.data(), f.data() + f.size(), v);
    if (ec != std::errc() || end != f.data() + f.size())
      return false;
    value = static_cast<double>(v);
    return true;
  };
  double utime = 0;
  double stime = 0;
  double start = 0;
  if (!field(14, utime) || !field(15, stime) || !field(22, start) ||
      !field(23, out.virtual_bytes) || !field(24, out.resident_pages)) {
    return false;
  }
  const double hz = static_cast<double>(ticks_per_second);
  out.cpu_seconds = (utime + stime) / hz;
  out.start_seconds = start / hz;
  return true;
}

std::vector<prometheus::MetricFamily> ProcessCollector::Collect() const {
  using prometheus::MetricType;
  std::vector<prometheus::MetricFamily> out;
  ProcStat st;
  const auto stat = read_text("/proc/self/stat");
  if (stat && parse_proc_stat(*stat, ::sysconf(_SC_CLK_TCK), st)) {
    out.push_back(family("process_cpu_seconds_total",
                         "Total user and system CPU time spent in seconds.", MetricType::Counter,
                         st.cpu_seconds));
    out.push_back(family("process_virtual_memory_bytes", "Virtual memory size in bytes.",
                         MetricType::Gauge, st.virtual_bytes));
    out.push_back(family("process_resident_memory_bytes", "Resident memory size in bytes.",
                         MetricType::Gauge,
                         st.resident_pages * static_cast<double>(::sysconf(_SC_PAGESIZE))));
    if (const auto boot = boot_time()) {
      out.push_back(family("process_start_time_seconds",
                           "Start time of the process since unix epoch in seconds.",
                           MetricType::Gauge, *boot + st.start_seconds));
    }
  }
  if (const auto fds = open_fds()) {
    out.push_back(
        family("process_open_fds", "Number of open file descriptors.", MetricType::Gauge, *fds));
  }
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    out.push_back(family("process_max_fds", "Maximum number of open file descriptors.",
                         MetricType::Gauge, static_cast<double>(limit.rlim_cur)));
  }
  return out;
}

}  // namespace ipm::app
