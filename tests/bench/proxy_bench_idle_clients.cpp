// Opens N idle TCP connections to 127.0.0.1:PORT, prints "ready N", and holds them until
// SIGTERM/SIGINT: the load side of the memory-per-idle-connection measurement in
// tests/bench/proxy_vs_haproxy.sh.
//
//   proxy_bench_idle_clients PORT N
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <vector>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: proxy_bench_idle_clients PORT N\n";
    return 2;
  }
  const int port = std::atoi(argv[1]);
  const int n = std::atoi(argv[2]);
  if (port <= 0 || port > 65535 || n <= 0) {
    std::cerr << "proxy_bench_idle_clients: bad PORT or N\n";
    return 2;
  }
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  sigprocmask(SIG_BLOCK, &stop, nullptr);

  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::vector<int> fds;
  fds.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      std::cerr << "proxy_bench_idle_clients: connection " << i << ": " << std::strerror(errno)
                << "\n";
      return 1;
    }
    fds.push_back(fd);
  }
  std::cout << "ready " << n << std::endl;
  int signal = 0;
  sigwait(&stop, &signal);
  for (int fd : fds)
    ::close(fd);
  return 0;
}
