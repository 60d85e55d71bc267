#include "tests/support/child_process.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>
#include <stdexcept>
#include <string>

extern char** environ;

namespace ipm::test {
namespace {

struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  ~Fd() {
    if (fd >= 0)
      ::close(fd);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
};

std::runtime_error sys_error(const std::string& what) {
  return std::runtime_error(what + ": " + std::strerror(errno));
}

}  // namespace

ChildProcess::ChildProcess(const SpawnOptions& options) {
  if (options.argv.empty())
    throw std::invalid_argument("ChildProcess: empty argv");
  // Everything the child needs is prepared before fork: after fork only async-signal-safe
  // calls are allowed (the test process may have threads).
  std::vector<char*> argv;
  for (const auto& a : options.argv)
    argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (char** e = environ; *e != nullptr; ++e)
    envp.push_back(*e);
  for (const auto& e : options.extra_env)
    envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  int out_fd = -1;
  int err_fd = -1;
  if (options.stdout_to) {
    out_fd = ::open(options.stdout_to->c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (out_fd < 0)
      throw sys_error("open " + options.stdout_to->string());
  }
  Fd out_guard(out_fd);
  if (options.stderr_to) {
    err_fd = ::open(options.stderr_to->c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (err_fd < 0)
      throw sys_error("open " + options.stderr_to->string());
  }
  Fd err_guard(err_fd);
  const bool search_path = options.argv[0].find('/') == std::string::npos;
  const pid_t parent = ::getpid();

  pid_ = ::fork();
  if (pid_ < 0)
    throw sys_error("fork");
  if (pid_ == 0) {
    // Own process group: stop() can SIGKILL the child and everything it forked.
    ::setpgid(0, 0);
    // If the test process dies (crash, ctest timeout), the child is told to go too.
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent)
      ::_exit(127);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    // Default dispositions, whatever the test runner ignores: a test started from a
    // background job inherits SIGINT ignored, and a shell cannot trap a signal ignored at
    // its start (the demo's Ctrl-C test then saw the script go on running).
    struct sigaction default_action {};
    default_action.sa_handler = SIG_DFL;
    for (const int sig : {SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGPIPE, SIGUSR1, SIGUSR2})
      ::sigaction(sig, &default_action, nullptr);
    if (out_fd >= 0)
      ::dup2(out_fd, STDOUT_FILENO);
    if (err_fd >= 0)
      ::dup2(err_fd, STDERR_FILENO);
    if (search_path) {
      ::execvpe(argv[0], argv.data(), envp.data());
    } else {
      ::execve(argv[0], argv.data(), envp.data());
    }
    ::_exit(127);
  }
  // Also set from the parent, so the group exists before stop() can be called.
  ::setpgid(pid_, pid_);
}

ChildProcess::~ChildProcess() {
  stop();
}

bool ChildProcess::try_reap() {
  if (status_)
    return true;
  int status = 0;
  const pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    status_ = status;
    return true;
  }
  if (r < 0 && errno == ECHILD) {
    status_ = -1;
    return true;
  }
  return false;
}

bool ChildProcess::running() {
  return pid_ > 0 && !try_reap();
}

bool ChildProcess::signal(int sig) {
  if (!running())
    return false;
  return ::kill(pid_, sig) == 0;
}

bool ChildProcess::wait_exit(std::chrono::milliseconds timeout) {
  if (pid_ <= 0)
    return true;
  return wait_until([this] { return try_reap(); }, timeout);
}

bool ChildProcess::stop(std::chrono::milliseconds grace, int first_signal) {
  if (pid_ <= 0)
    return true;
  if (!running()) {
    ::kill(-pid_, SIGKILL);  // leftovers of the group, if the leader died first
    return true;
  }
  ::kill(pid_, first_signal);
  if (wait_exit(grace)) {
    ::kill(-pid_, SIGKILL);
    return true;
  }
  ::kill(-pid_, SIGKILL);
  wait_exit(std::chrono::seconds(10));
  return false;
}

int run_command(const SpawnOptions& options, std::chrono::milliseconds timeout) {
  ChildProcess child(options);
  if (!child.wait_exit(timeout)) {
    child.stop(std::chrono::milliseconds(100));
    return -1;
  }
  const int status = child.wait_status().value_or(-1);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

bool wait_for_tcp_port(const std::string& host, std::uint16_t port,
                       std::chrono::milliseconds timeout) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
    throw std::invalid_argument("wait_for_tcp_port: not an IPv4 address: " + host);
  }
  return wait_until(
      [&] {
        Fd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        return s.fd >= 0 &&
               ::connect(s.fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0;
      },
      timeout);
}

namespace {

bool port_is_free(std::uint16_t port) {
  Fd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (s.fd < 0)
    return false;
  // As nginx and our listeners bind: with SO_REUSEADDR, so that the TIME-WAIT connections a
  // busy machine leaves on a port (thousands after a benchmark) do not count as taken.
  const int one = 1;
  ::setsockopt(s.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return ::bind(s.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
}

}  // namespace

std::uint16_t free_tcp_port_run(int n) {
  std::mt19937 rng(static_cast<unsigned>(::getpid()) ^ std::random_device{}());
  std::uniform_int_distribution<int> pick(20000, 32000 - n);
  for (int attempt = 0; attempt < 200; ++attempt) {
    const int base = pick(rng);
    bool all = true;
    for (int i = 0; i < n && all; ++i)
      all = port_is_free(static_cast<std::uint16_t>(base + i));
    if (all)
      return static_cast<std::uint16_t>(base);
  }
  throw std::runtime_error("no run of " + std::to_string(n) + " free ports on 127.0.0.1");
}

std::uint16_t free_tcp_port() {
  return free_tcp_port_run(1);
}

}  // namespace ipm::test
