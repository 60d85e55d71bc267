#include "proxy/cpu_allowance.hpp"

#include <sched.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <iterator>
#include <sstream>
#include <thread>
#include <vector>

namespace ipm::proxy {
namespace fs = std::filesystem;

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\n' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

std::optional<long long> parse_integer(std::string_view s) {
  s = trim(s);
  long long value = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size())
    return std::nullopt;
  return value;
}

std::vector<std::string_view> split(std::string_view s, char by) {
  std::vector<std::string_view> out;
  for (std::size_t at = 0;;) {
    const std::size_t next = s.find(by, at);
    out.push_back(
        s.substr(at, next == std::string_view::npos ? std::string_view::npos : next - at));
    if (next == std::string_view::npos)
      return out;
    at = next + 1;
  }
}

std::optional<std::string> read_file(const fs::path& p) {
  std::ifstream in(p);
  if (!in)
    return std::nullopt;
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      int value = 0;
      const auto [end, ec] = std::from_chars(s.data() + i + 1, s.data() + i + 4, value, 8);
      if (ec == std::errc() && end == s.data() + i + 4) {
        out += static_cast<char>(value);
        i += 3;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

// `path` below `base`, without the leading '/' (fs::path's operator/ would restart at an
// absolute one).
fs::path below(const fs::path& base, std::string_view path) {
  while (!path.empty() && path.front() == '/')
    path.remove_prefix(1);
  return path.empty() ? base : base / path;
}

// Calls `visit(dir)` for the process's cgroup folder and each parent up to the mount point.
template <class Visit>
void each_level(const fs::path& root, const CgroupMount& mount, std::string path, Visit visit) {
  if (mount.root != "/") {
    // The mount shows only part of the hierarchy: the path must lie in it.
    if (path != mount.root && path.rfind(mount.root + "/", 0) != 0)
      return;
    path.erase(0, mount.root.size());
  }
  const fs::path top = below(root, mount.mount_point);
  for (fs::path dir = below(top, path);; dir = dir.parent_path()) {
    visit(dir);
    if (dir == top || !dir.has_relative_path() || dir.parent_path() == dir)
      return;
  }
}

std::string format_cpus(double cpus) {
  std::ostringstream out;
  out << cpus;
  return out.str();
}

// The smallest quota that `read(dir)` finds along the cgroup path of `controller`.
template <class Read>
std::optional<CpuQuota> smallest_quota(const fs::path& root, std::string_view controller,
                                       Read read) {
  const auto cgroups = read_file(root / "proc/self/cgroup");
  const auto mountinfo = read_file(root / "proc/self/mountinfo");
  if (!cgroups || !mountinfo)
    return std::nullopt;
  const auto path = cgroup_path(*cgroups, controller);
  const auto mount = find_cgroup_mount(*mountinfo, controller);
  if (!path || !mount)
    return std::nullopt;
  std::optional<CpuQuota> best;
  each_level(root, *mount, *path, [&](const fs::path& dir) {
    std::optional<CpuQuota> q = read(dir);
    if (q && (!best || q->cpus < best->cpus))
      best = std::move(q);
  });
  return best;
}

}  // namespace

std::optional<double> parse_cpu_max(std::string_view text) {
  const auto fields = split(trim(text), ' ');
  if (fields.size() != 2)
    return std::nullopt;
  const auto quota = parse_integer(fields[0]);
  const auto period = parse_integer(fields[1]);
  if (!quota || !period || *quota <= 0 || *period <= 0)
    return std::nullopt;  // "max" (no quota) or malformed
  return static_cast<double>(*quota) / static_cast<double>(*period);
}

std::optional<double> parse_cfs_quota(std::string_view quota, std::string_view period) {
  const auto q = parse_integer(quota);
  const auto p = parse_integer(period);
  if (!q || !p || *q <= 0 || *p <= 0)
    return std::nullopt;  // -1: no quota
  return static_cast<double>(*q) / static_cast<double>(*p);
}

std::optional<std::string> cgroup_path(std::string_view proc_self_cgroup,
                                       std::string_view controller) {
  for (const std::string_view line : split(proc_self_cgroup, '\n')) {
    // "hierarchy-ID:controller-list:path"; the path may itself hold ':'.
    const std::size_t first = line.find(':');
    const std::size_t second = first == std::string_view::npos ? first : line.find(':', first + 1);
    if (second == std::string_view::npos)
      continue;
    const std::string_view id = line.substr(0, first);
    const std::string_view controllers = line.substr(first + 1, second - first - 1);
    const std::string_view path = line.substr(second + 1);
    const bool match = controller.empty()
                           ? id == "0" && controllers.empty()
                           : std::ranges::count(split(controllers, ','), controller) > 0;
    if (match && !path.empty() && path.front() == '/')
      return std::string(path);
  }
  return std::nullopt;
}

std::optional<CgroupMount> find_cgroup_mount(std::string_view mountinfo,
                                             std::string_view controller) {
  for (const std::string_view line : split(mountinfo, '\n')) {
    // "ID PARENT MAJ:MIN ROOT MOUNT-POINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER-OPTIONS"
    const std::size_t dash = line.find(" - ");
    if (dash == std::string_view::npos)
      continue;
    const auto before = split(line.substr(0, dash), ' ');
    const auto after = split(line.substr(dash + 3), ' ');
    if (before.size() < 6 || after.size() < 3)
      continue;
    const bool match =
        controller.empty()
            ? after[0] == "cgroup2"
            : after[0] == "cgroup" && std::ranges::count(split(after[2], ','), controller) > 0;
    if (match)
      return CgroupMount{unescape(before[3]), unescape(before[4])};
  }
  return std::nullopt;
}

unsigned cpus_allowed(unsigned affinity, std::optional<double> quota) {
  unsigned cpus = std::max(affinity, 1U);
  if (quota && *quota > 0)
    cpus = std::min(cpus, static_cast<unsigned>(std::ceil(*quota)));
  return std::max(cpus, 1U);
}

std::optional<CpuQuota> cgroup_cpu_quota(const fs::path& root) {
  auto v2 = smallest_quota(root, "", [](const fs::path& dir) -> std::optional<CpuQuota> {
    const fs::path file = dir / "cpu.max";
    const auto text = read_file(file);
    const auto cpus = text ? parse_cpu_max(*text) : std::nullopt;
    if (!cpus)
      return std::nullopt;
    return CpuQuota{*cpus, file.string() + " \"" + std::string(trim(*text)) + "\""};
  });
  if (v2)
    return v2;
  return smallest_quota(root, "cpu", [](const fs::path& dir) -> std::optional<CpuQuota> {
    const auto quota = read_file(dir / "cpu.cfs_quota_us");
    const auto period = read_file(dir / "cpu.cfs_period_us");
    const auto cpus = quota && period ? parse_cfs_quota(*quota, *period) : std::nullopt;
    if (!cpus)
      return std::nullopt;
    return CpuQuota{*cpus, (dir / "cpu.cfs_quota_us").string() + " " + std::string(trim(*quota)) +
                               " / cpu.cfs_period_us " + std::string(trim(*period))};
  });
}

CpuAllowance usable_cpus(const fs::path& root) {
  unsigned affinity = 0;
  constexpr int kMaxCpus = 8192;
  cpu_set_t* set = CPU_ALLOC(kMaxCpus);
  const std::size_t size = CPU_ALLOC_SIZE(kMaxCpus);
  if (set != nullptr && ::sched_getaffinity(0, size, set) == 0)
    affinity = static_cast<unsigned>(CPU_COUNT_S(size, set));
  if (set != nullptr)
    CPU_FREE(set);
  std::string why;
  if (affinity == 0) {
    affinity = std::max(1U, std::thread::hardware_concurrency());
    why = std::to_string(affinity) + " CPUs on the machine (no affinity mask)";
  } else {
    why = std::to_string(affinity) + (affinity == 1 ? " CPU" : " CPUs") + " in the affinity mask";
  }
  const std::optional<CpuQuota> quota = cgroup_cpu_quota(root);
  CpuAllowance out;
  out.cpus = cpus_allowed(affinity, quota ? std::optional(quota->cpus) : std::nullopt);
  why += quota ? ", cgroup CPU quota " + format_cpus(quota->cpus) + " (" + quota->source + ")"
               : ", no cgroup CPU quota";
  out.why = std::move(why);
  return out;
}

}  // namespace ipm::proxy
