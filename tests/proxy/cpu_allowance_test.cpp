#include "proxy/cpu_allowance.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <pthread.h>
#include <sched.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "tests/support/temp_dir.hpp"

namespace ipm::proxy::test {
namespace {

namespace fs = std::filesystem;
using testing::HasSubstr;
using testing::Optional;

TEST(CpuAllowanceTest, cpu_max_texts) {
  EXPECT_THAT(parse_cpu_max("150000 100000\n"), Optional(1.5));
  EXPECT_THAT(parse_cpu_max("100000 100000"), Optional(1.0));
  EXPECT_THAT(parse_cpu_max("50000 100000"), Optional(0.5));
  for (const char* none : {"max 100000\n", "max", "", "0 100000", "100000 0", "-5 100000", "1 2 3",
                           "abc 100000", "150000  100000", "1e5 100000"})
    EXPECT_EQ(parse_cpu_max(none), std::nullopt) << '"' << none << '"';
}

TEST(CpuAllowanceTest, cfs_quota_texts) {
  EXPECT_THAT(parse_cfs_quota("250000\n", "100000\n"), Optional(2.5));
  EXPECT_EQ(parse_cfs_quota("-1\n", "100000\n"), std::nullopt) << "no quota";
  EXPECT_EQ(parse_cfs_quota("50000", "0"), std::nullopt);
  EXPECT_EQ(parse_cfs_quota("x", "100000"), std::nullopt);
}

TEST(CpuAllowanceTest, cgroup_paths_of_v2_and_v1_lines) {
  const std::string hybrid =
      "9:name=systemd:/system.slice/ipm.service\n"
      "4:cpu,cpuacct:/system.slice/ipm.service\n"
      "3:cpuset:/\n"
      "0::/system.slice/ipm.service\n";
  EXPECT_THAT(cgroup_path(hybrid, ""), Optional(std::string("/system.slice/ipm.service")));
  EXPECT_THAT(cgroup_path(hybrid, "cpu"), Optional(std::string("/system.slice/ipm.service")));
  EXPECT_THAT(cgroup_path(hybrid, "cpuset"), Optional(std::string("/")));
  EXPECT_EQ(cgroup_path(hybrid, "memory"), std::nullopt);
  EXPECT_EQ(cgroup_path("1:cpu:/\n", ""), std::nullopt) << "v1 only: no v2 line";
  EXPECT_THAT(cgroup_path("0::/a:b\n", ""), Optional(std::string("/a:b")));
  EXPECT_EQ(cgroup_path("garbage\n0:x\n", ""), std::nullopt);
}

TEST(CpuAllowanceTest, cgroup_mounts_from_mountinfo) {
  const std::string mountinfo =
      "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
      "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:9 - cgroup cgroup "
      "rw,cpu,cpuacct\n"
      "41 31 0:38 /kube/pod1 /sys/fs/cgroup/unified\\040dir rw,relatime - cgroup2 cgroup2 rw\n";
  const auto v2 = find_cgroup_mount(mountinfo, "");
  ASSERT_TRUE(v2.has_value());
  EXPECT_EQ(v2->root, "/kube/pod1");
  EXPECT_EQ(v2->mount_point, "/sys/fs/cgroup/unified dir");
  const auto v1 = find_cgroup_mount(mountinfo, "cpu");
  ASSERT_TRUE(v1.has_value());
  EXPECT_EQ(v1->mount_point, "/sys/fs/cgroup/cpu,cpuacct");
  EXPECT_EQ(find_cgroup_mount(mountinfo, "cpuset"), std::nullopt);
  EXPECT_EQ(find_cgroup_mount("no dash here\n", ""), std::nullopt);
}

TEST(CpuAllowanceTest, workers_are_the_smaller_of_affinity_and_quota_rounded_up) {
  EXPECT_EQ(cpus_allowed(8, std::nullopt), 8U);
  EXPECT_EQ(cpus_allowed(8, 1.5), 2U);
  EXPECT_EQ(cpus_allowed(8, 0.2), 1U);
  EXPECT_EQ(cpus_allowed(2, 4.0), 2U);
  EXPECT_EQ(cpus_allowed(0, std::nullopt), 1U);
}

// A folder that mimics /proc/self and /sys/fs/cgroup for cgroup_cpu_quota().
class FakeRoot {
 public:
  void write(const std::string& relative, const std::string& text) {
    const fs::path p = dir_.path() / relative;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
  }
  const fs::path& path() const { return dir_.path(); }

 private:
  ipm::test::TempDir dir_;
};

constexpr const char* kHybridMounts =
    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

TEST(CpuAllowanceTest, hybrid_host_without_cpu_max_reads_the_v1_quota) {
  FakeRoot root;
  root.write("proc/self/mountinfo", kHybridMounts);
  root.write("proc/self/cgroup", "1:cpu:/svc\n0::/svc\n");
  root.write("sys/fs/cgroup/unified/svc/cgroup.procs", "");  // no cpu.max: absent is normal
  EXPECT_EQ(cgroup_cpu_quota(root.path()), std::nullopt);
  root.write("sys/fs/cgroup/cpu/svc/cpu.cfs_quota_us", "-1\n");
  root.write("sys/fs/cgroup/cpu/svc/cpu.cfs_period_us", "100000\n");
  EXPECT_EQ(cgroup_cpu_quota(root.path()), std::nullopt) << "-1: no quota";
  root.write("sys/fs/cgroup/cpu/svc/cpu.cfs_quota_us", "150000\n");
  const auto q = cgroup_cpu_quota(root.path());
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ(q->cpus, 1.5);
  EXPECT_THAT(q->source, HasSubstr("cpu.cfs_quota_us 150000"));
}

TEST(CpuAllowanceTest, v2_cpu_max_is_read_up_the_hierarchy_and_the_smallest_wins) {
  FakeRoot root;
  root.write("proc/self/mountinfo",
             "41 31 0:38 / /sys/fs/cgroup rw,relatime - cgroup2 cgroup2 rw\n");
  root.write("proc/self/cgroup", "0::/system.slice/ipm.service\n");
  root.write("sys/fs/cgroup/system.slice/ipm.service/cpu.max", "max 100000\n");
  EXPECT_EQ(cgroup_cpu_quota(root.path()), std::nullopt);
  root.write("sys/fs/cgroup/system.slice/cpu.max", "300000 100000\n");
  EXPECT_THAT(cgroup_cpu_quota(root.path()), Optional(testing::Field(&CpuQuota::cpus, 3.0)))
      << "a parent's quota limits its children";
  root.write("sys/fs/cgroup/system.slice/ipm.service/cpu.max", "50000 100000\n");
  const auto q = cgroup_cpu_quota(root.path());
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ(q->cpus, 0.5);
  EXPECT_THAT(q->source, HasSubstr("ipm.service/cpu.max \"50000 100000\""));
}

TEST(CpuAllowanceTest, a_container_sees_its_own_cgroup_as_the_root) {
  FakeRoot root;
  root.write("proc/self/mountinfo",
             "41 31 0:38 / /sys/fs/cgroup rw,relatime - cgroup2 cgroup2 rw\n");
  root.write("proc/self/cgroup", "0::/\n");
  root.write("sys/fs/cgroup/cpu.max", "200000 100000\n");
  EXPECT_THAT(cgroup_cpu_quota(root.path()), Optional(testing::Field(&CpuQuota::cpus, 2.0)));
}

TEST(CpuAllowanceTest, nothing_to_read_means_no_quota) {
  FakeRoot root;
  EXPECT_EQ(cgroup_cpu_quota(root.path()), std::nullopt);
  root.write("proc/self/cgroup", "0::/x\n");
  root.write("proc/self/mountinfo", "garbage\n");
  EXPECT_EQ(cgroup_cpu_quota(root.path()), std::nullopt);
}

TEST(CpuAllowanceTest, the_affinity_mask_counts) {
  // On a thread of its own, pinned to one CPU: the allowance follows the mask.
  std::thread([] {
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(0, &one);
    ASSERT_EQ(::pthread_setaffinity_np(::pthread_self(), sizeof one, &one), 0);
    const CpuAllowance a = usable_cpus();
    EXPECT_EQ(a.cpus, 1U);
    EXPECT_THAT(a.why, HasSubstr("1 CPU in the affinity mask"));
  }).join();
}

}  // namespace
}  // namespace ipm::proxy::test
