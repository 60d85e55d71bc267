// Tail latency: time from appending a line to a log until the Tailer's sink receives it,
// over a few hundred lines written one at a time (the idle case, where latency matters:
// a failing IP's first 403). Peer in the same run: GNU `tail -n0 -F` (inotify too), read
// through a FIFO. The Go ipmanager rescans every scan_interval_min (5 min by default), so its
// latency is uniform over [0, 300 s]: p50 150 s (stated, not measured).
//
//   tail_latency_bench [LINES=400]
#include <fcntl.h>
#include <poll.h>
#include <prometheus/registry.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "scanner/tailer.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/temp_dir.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using ipm::test::TempDir;

struct Percentiles {
  double p50_us = 0;
  double p99_us = 0;
  double max_us = 0;
};

Percentiles percentiles(std::vector<double> us) {
  std::sort(us.begin(), us.end());
  auto at = [&](double q) {
    return us[static_cast<std::size_t>(q * static_cast<double>(us.size() - 1))];
  };
  return {at(0.50), at(0.99), us.back()};
}

void append_line(int fd, int i) {
  const std::string line = "127.0.0.1 - - [22/Nov/2026:02:48:14 +0000] \"GET /" +
                           std::to_string(i) +
                           " HTTP/1.1\" 403 18 \"-\" \"bench\" 127.0.0.1:19002 egress=127.0.1.2 "
                           "upstream_status=403 rt=0.001 Exgress_key: k -> Request Host: x <-\n";
  if (::write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size()))
    std::abort();
}

// ipmanager's Tailer on its own io_context thread.
std::vector<double> measure_tailer(const TempDir& dir, int lines) {
  const auto path = (dir / "tailer.log").string();
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  boost::asio::io_context ioc;
  auto guard = boost::asio::make_work_guard(ioc);
  prometheus::Registry registry;
  std::atomic<int> received{0};
  std::atomic<Clock::rep> received_at{0};
  ipm::scanner::TailerOptions options;
  options.paths = {path};
  ipm::scanner::Tailer tailer(
      ioc.get_executor(), options,
      [&](std::span<const std::string_view> batch, const ipm::scanner::FileId&) {
        received_at = Clock::now().time_since_epoch().count();
        received += static_cast<int>(batch.size());
      },
      registry);
  tailer.start();
  std::thread runner([&] { ioc.run(); });
  std::vector<double> us;
  for (int i = 0; i < lines; ++i) {
    const auto t0 = Clock::now();
    append_line(fd, i);
    const auto deadline = t0 + std::chrono::seconds(5);
    while (received < i + 1 && Clock::now() < deadline)
      std::this_thread::yield();
    if (received < i + 1)
      break;
    us.push_back(std::chrono::duration<double, std::micro>(Clock::duration(received_at.load()) -
                                                           t0.time_since_epoch())
                     .count());
    std::this_thread::sleep_for(std::chrono::milliseconds(2));  // one line at a time
  }
  tailer.stop();
  guard.reset();
  runner.join();
  ::close(fd);
  return us;
}

// GNU tail -n0 -F, its output read from a FIFO.
std::vector<double> measure_gnu_tail(const TempDir& dir, int lines) {
  const auto path = (dir / "tail.log").string();
  const auto fifo = dir / "tail.fifo";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  ::mkfifo(fifo.c_str(), 0600);
  const int in = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  ipm::test::SpawnOptions spawn;
  spawn.argv = {"tail", "-n0", "-F", path};
  spawn.stdout_to = fifo;
  ipm::test::ChildProcess tail(spawn);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // let tail set up its watch
  std::vector<double> us;
  char buf[4096];
  for (int i = 0; i < lines; ++i) {
    const auto t0 = Clock::now();
    append_line(fd, i);
    bool got = false;
    while (!got) {
      pollfd p{in, POLLIN, 0};
      if (::poll(&p, 1, 5000) <= 0)
        break;
      const ssize_t n = ::read(in, buf, sizeof buf);
      got = n > 0 && buf[n - 1] == '\n';
    }
    if (!got)
      break;
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  tail.stop();
  ::close(in);
  ::close(fd);
  return us;
}

}  // namespace

int main(int argc, char** argv) {
  const int lines = argc > 1 ? std::max(10, std::atoi(argv[1])) : 400;
  TempDir dir("ipm-tail-bench");
  const auto ours = measure_tailer(dir, lines);
  const auto peer = measure_gnu_tail(dir, lines);
  if (ours.size() != static_cast<std::size_t>(lines) ||
      peer.size() != static_cast<std::size_t>(lines)) {
    std::fprintf(stderr, "lines lost: tailer %zu, tail -F %zu of %d\n", ours.size(), peer.size(),
                 lines);
    return 1;
  }
  const auto a = percentiles(ours);
  const auto b = percentiles(peer);
  std::printf("append -> delivered latency over %d lines (microseconds)\n", lines);
  std::printf("%-22s %10s %10s %10s\n", "", "p50", "p99", "max");
  std::printf("%-22s %10.1f %10.1f %10.1f\n", "ipmanager Tailer", a.p50_us, a.p99_us, a.max_us);
  std::printf("%-22s %10.1f %10.1f %10.1f\n", "GNU tail -F (peer)", b.p50_us, b.p99_us, b.max_us);
  std::printf("ratio Tailer/tail -F: p50 %.2f, p99 %.2f\n", a.p50_us / b.p50_us,
              a.p99_us / b.p99_us);
  std::printf("Go ipmanager (rescan every scan_interval_min=5 min): p50 ~150000000 us\n");
  return 0;
}
