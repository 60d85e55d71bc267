#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace ipm::test {

/// How to start a child: argv[0] is looked up in PATH when it has no '/'.
struct SpawnOptions {
  std::vector<std::string> argv;
  std::vector<std::string> extra_env;              ///< "KEY=VALUE", added to this process's env
  std::optional<std::filesystem::path> stdout_to;  ///< appended; default: inherited
  std::optional<std::filesystem::path> stderr_to;  ///< appended; default: inherited
};

/// A process the test owns. It runs in its own process group (so a SIGKILL reaches the
/// children it forked, such as nginx workers) and gets SIGTERM if the test process dies.
/// stop() escalates SIGTERM -> SIGKILL (to the group) with a bounded wait and reaps; the
/// destructor calls stop(). Not thread-safe; not copyable or movable.
class ChildProcess {
 public:
  explicit ChildProcess(const SpawnOptions& options);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  /// True while the process has not exited (reaps it if it has).
  bool running();
  /// Sends `sig` to the process (not its group). False when it already exited.
  bool signal(int sig);
  /// Waits up to `timeout` for the process to exit; true when it has (and was reaped).
  bool wait_exit(std::chrono::milliseconds timeout);
  /// The raw wait status once reaped.
  std::optional<int> wait_status() const { return status_; }
  /// SIGTERM (or `first_signal`), up to `grace` to exit, then SIGKILL to the whole group.
  /// Returns true when the process exited before the SIGKILL.
  bool stop(std::chrono::milliseconds grace = std::chrono::seconds(5), int first_signal = 15);

 private:
  bool try_reap();

  pid_t pid_ = -1;
  std::optional<int> status_;
};

/// Runs argv to completion (bounded by `timeout`, then killed) and returns its exit code
/// (-1 when killed or signalled). Output goes to the given files, or is inherited.
int run_command(const SpawnOptions& options,
                std::chrono::milliseconds timeout = std::chrono::seconds(30));

/// Polls until a TCP connect to host:port succeeds; false after `timeout`.
bool wait_for_tcp_port(const std::string& host, std::uint16_t port,
                       std::chrono::milliseconds timeout);

/// A run of `n` consecutive ports that were free on 127.0.0.1 a moment ago, picked below
/// the kernel's ephemeral range (32768+): outgoing connections never take them, and a
/// connect() to one cannot succeed by connecting to itself (TCP self-connect, which made
/// wait_for_tcp_port() report a server that had not started yet).
std::uint16_t free_tcp_port_run(int n);

/// One such port.
std::uint16_t free_tcp_port();

/// Polls `predicate` every few milliseconds until it is true or `timeout` passes.
template <typename Predicate>
bool wait_until(Predicate&& predicate, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (predicate())
      return true;
    if (std::chrono::steady_clock::now() >= deadline)
      return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

}  // namespace ipm::test
