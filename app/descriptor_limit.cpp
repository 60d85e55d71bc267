#include "app/descriptor_limit.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

namespace ipm::app {
namespace {

// Standard streams, the main io_context (epoll, eventfd, timerfd), the signal pipe, a log
// or config file opened now and then, and slack.
constexpr std::uint64_t kProcessDescriptors = 32;
constexpr std::uint64_t kMinProbeDescriptors = 8;

std::uint64_t nr_open() {
  std::uint64_t value = 1024 * 1024;  // the kernel's default
  std::ifstream("/proc/sys/fs/nr_open") >> value;
  return value;
}

}  // namespace

DescriptorLimit raise_descriptor_limit() {
  DescriptorLimit out;
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    out.error = std::strerror(errno);
    return out;
  }
  const rlim_t target = limit.rlim_max == RLIM_INFINITY ? nr_open() : limit.rlim_max;
  out.before = limit.rlim_cur;
  out.soft = limit.rlim_cur;
  out.hard = limit.rlim_max == RLIM_INFINITY ? target : limit.rlim_max;
  if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < target) {
    rlimit raised = limit;
    raised.rlim_cur = target;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0)
      out.soft = target;
    else
      out.error = std::strerror(errno);
  }
  return out;
}

std::string describe(const DescriptorLimit& l) {
  std::string out = "descriptor limit " + std::to_string(l.soft);
  if (!l.error.empty())
    return out + " (raising it to the hard limit " + std::to_string(l.hard) +
           " failed: " + l.error + ")";
  if (l.soft != l.before)
    return out + " (raised from " + std::to_string(l.before) + " to the hard limit)";
  return out + " (the hard limit)";
}

std::uint64_t descriptors_besides_the_proxy(const config::Config& config, std::size_t followed_logs,
                                            std::uint64_t fd_limit) {
  const std::uint64_t probe = std::min<std::uint64_t>(
      std::uint64_t{config.probe_max_connections} + config.probe_max_event_streams + 1,
      std::max(kMinProbeDescriptors, fd_limit / 8));
  return kProcessDescriptors + 2 * std::uint64_t{followed_logs} + probe;
}

}  // namespace ipm::app
