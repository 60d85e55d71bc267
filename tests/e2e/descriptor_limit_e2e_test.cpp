// The shipped binary at a low descriptor limit (issue 13): the proxy caps itself to what the
// limit holds, the probe answers with the proxy full, the process idles while clients wait in
// the backlog, and new clients are proxied once the holders leave.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/e2e/ipmanager_process.hpp"
#include "tests/support/descriptors.hpp"
#include "tests/support/temp_dir.hpp"

namespace {

using ipm::test::IpmanagerProcess;
using ipm::test::NginxPool;
using ipm::test::wait_until;
using namespace std::chrono_literals;
using testing::HasSubstr;

// The value of one sample of /metrics, or -1 when the series is absent.
double sample(const std::string& metrics, const std::string& series) {
  const auto at = metrics.find("\n" + series + " ");
  if (at == std::string::npos)
    return -1;
  return std::stod(metrics.substr(at + series.size() + 2));
}

int open_descriptors(pid_t pid) {
  int n = 0;
  for ([[maybe_unused]] const auto& entry :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd"))
    ++n;
  return n;
}

// A client connection that sends nothing and stays open (the kernel completes the handshake
// even while the proxy does not accept it).
int hold_connection(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

TEST(DescriptorLimitE2ETest, a_full_proxy_at_96_descriptors_idles_answers_the_probe_and_recovers) {
  NginxPool pool;
  ipm::test::TempDir work;
  constexpr int kLimit = 96;
  IpmanagerProcess ipm(
      pool, "proxy_threads: 1\n", work.path(), false,
      {"prlimit", "--nofile=" + std::to_string(kLimit) + ":" + std::to_string(kLimit), "--"});
  const double cap = sample(ipm.metrics(), "ipmanager_proxy_max_connections");
  ASSERT_GT(cap, 0);
  ASSERT_LT(cap, kLimit / 2) << "two descriptors per connection, and a reserve";
  EXPECT_THAT(ipm.stderr_text(), HasSubstr("does not fit the descriptor limit"));

  // More clients than the cap connect and hold their connections.
  std::vector<int> holders;
  for (int i = 0; i < 160; ++i) {
    const int fd = hold_connection(ipm.proxy_port());
    ASSERT_GE(fd, 0) << "client " << i;
    holders.push_back(fd);
  }
  const auto active = [&] { return sample(ipm.metrics(), "ipmanager_proxy_active_connections"); };
  ASSERT_TRUE(wait_until([&] { return active() == cap; }, 10s))
      << "open: " << active() << " of " << cap;
  EXPECT_EQ(ipm.probe("/ping").body, "pong") << "the probe answers with the proxy full";

  // Held full: the accept loop waits for a free slot, the process idles within its limit.
  const ipm::test::ProcessCpuTime cpu(ipm.process().pid());
  const auto before = cpu.used();
  std::this_thread::sleep_for(4s);
  const auto used = cpu.used() - before;
  EXPECT_LT(used, 400ms) << "CPU time over a 4 s hold with the proxy full";
  EXPECT_LE(open_descriptors(ipm.process().pid()), kLimit);
  EXPECT_EQ(ipm.probe("/ping").body, "pong");
  EXPECT_THAT(ipm.metrics(), HasSubstr("ipmanager_proxy_accept_paused_total"));

  for (const int fd : holders)
    ::close(fd);
  const auto closed = std::chrono::steady_clock::now();
  EXPECT_TRUE(wait_until([&] { return active() == 0; }, 15s)) << "open: " << active();
  EXPECT_EQ(ipm.traffic(20)[200], 20) << "new clients are proxied after";
  std::cerr << "cap " << cap << " at " << kLimit << " descriptors; " << used.count()
            << " ms CPU over a 4 s hold; all 160 ended within "
            << std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::steady_clock::now() - closed)
                   .count()
            << " ms\n";
}

}  // namespace
