#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace ipm::proxy {

/// A CPU quota of the process's cgroup: `cpus` CPUs' worth of time per period.
struct CpuQuota {
  double cpus = 0;
  std::string source;  ///< the file it was read from, with its contents
};

/// How many CPUs the process may use, and why (for the startup log): the CPUs of its affinity
/// mask (taskset, systemd's CPUAffinity=, a container's cpuset), lowered by a CPU quota of its
/// cgroup (systemd's CPUQuota=, docker --cpus) rounded up, and at least 1.
struct CpuAllowance {
  unsigned cpus = 1;
  std::string why;
};

/// The allowance of the calling thread's process: sched_getaffinity and the cgroup files under
/// `root` (tests pass a folder that mimics /proc and /sys).
CpuAllowance usable_cpus(const std::filesystem::path& root = "/");

/// The smallest CPU quota on the way from the process's cgroup up to the root of its hierarchy:
/// cgroup v2 `cpu.max` ("150000 100000": 1.5 CPUs; "max 100000": none) where the unified
/// hierarchy has the cpu controller, else cgroup v1 `cpu.cfs_quota_us` / `cpu.cfs_period_us`
/// (-1: none). nullopt when there is none, or no cgroup file to read (absent files are normal:
/// a hybrid host mounts cgroup2 without the cpu controller).
std::optional<CpuQuota> cgroup_cpu_quota(const std::filesystem::path& root = "/");

// The pure steps, table-tested.

/// CPUs in a cgroup v2 `cpu.max` text; nullopt for "max", a zero period or anything malformed.
std::optional<double> parse_cpu_max(std::string_view text);
/// CPUs from cgroup v1 `cpu.cfs_quota_us` and `cpu.cfs_period_us` texts; nullopt for -1.
std::optional<double> parse_cfs_quota(std::string_view quota, std::string_view period);
/// The process's cgroup path from /proc/self/cgroup: the v2 line ("0::/path") when
/// `controller` is empty, else the v1 line whose controller list names it ("4:cpu,cpuacct:/x").
std::optional<std::string> cgroup_path(std::string_view proc_self_cgroup,
                                       std::string_view controller);

/// A cgroup mount from /proc/self/mountinfo: where it is mounted and which part of the
/// hierarchy it shows (not "/" inside some containers).
struct CgroupMount {
  std::string root;
  std::string mount_point;
};
/// The cgroup2 mount when `controller` is empty, else the v1 mount of that controller.
std::optional<CgroupMount> find_cgroup_mount(std::string_view mountinfo,
                                             std::string_view controller);

/// Workers for `affinity` CPUs under an optional quota: the smaller, rounded up, at least 1.
unsigned cpus_allowed(unsigned affinity, std::optional<double> quota);

}  // namespace ipm::proxy
