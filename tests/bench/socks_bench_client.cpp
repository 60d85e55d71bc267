// A SOCKS5 and HTTP CONNECT load generator and its backend in one program, for
// tests/bench/socks_vs_peers.sh.
//
//   socks_bench_client --proxy-port P --mode handshake --seconds S --concurrency C
//       C client threads, each in a loop for S seconds: connect to the proxy, greeting (read
//       its 2-byte answer), CONNECT to the backend (read its 10), send a 32-byte
//       request, read the 32-byte answer, close. Prints handshakes/s.
//   socks_bench_client --proxy-port P --mode bulk --bytes N --concurrency C
//       C connections through the proxy each ask the backend for N bytes and read them all.
//       Prints MB/s (all connections together, first request to last byte).
//   socks_bench_client --mode idle --proxy-port P --concurrency C --seconds S
//       Opens C SOCKS connections through the proxy to the backend, holds them S seconds.
//   --protocol http (any mode): the proxy is asked by `CONNECT 127.0.0.1:PORT HTTP/1.1`
//       instead of the SOCKS5 greeting and CONNECT (default --protocol socks5).
//
// The backend (127.0.0.1, a free port) is an epoll loop on its own thread that echoes a
// request and closes; a bulk request ("B <bytes>\n") gets a thread that writes the bytes.
// Every figure is printed as key=value on one line. Loopback only; exits non-zero on failures.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

int listen_loopback(std::uint16_t& port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  const int on = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 4096) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    std::perror("backend listen");
    std::exit(1);
  }
  port = ntohs(a.sin_port);
  return fd;
}

bool write_all(int fd, const char* p, std::size_t n) {
  while (n > 0) {
    const ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
    if (w <= 0)
      return false;
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

bool read_exactly(int fd, char* p, std::size_t n) {
  while (n > 0) {
    const ssize_t r = ::recv(fd, p, n, 0);
    if (r <= 0)
      return false;
    p += r;
    n -= static_cast<std::size_t>(r);
  }
  return true;
}

class Backend {
 public:
  Backend() : listen_fd_(listen_loopback(port_)), thread_([this] { loop(); }) {}
  ~Backend() {
    stop_ = true;
    thread_.join();
    for (auto& t : bulk_)
      t.join();
    ::close(listen_fd_);
  }
  std::uint16_t port() const { return port_; }

 private:
  void loop() {
    const int ep = ::epoll_create1(EPOLL_CLOEXEC);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = listen_fd_;
    ::epoll_ctl(ep, EPOLL_CTL_ADD, listen_fd_, &ev);
    epoll_event events[256];
    while (!stop_) {
      const int n = ::epoll_wait(ep, events, 256, 50);
      for (int i = 0; i < n; ++i) {
        const int fd = events[i].data.fd;
        if (fd == listen_fd_) {
          for (;;) {
            const int c = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (c < 0)
              break;
            epoll_event cev{};
            cev.events = EPOLLIN | EPOLLRDHUP;
            cev.data.fd = c;
            ::epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev);
          }
          continue;
        }
        char buf[256];
        const ssize_t r = ::recv(fd, buf, sizeof buf, 0);
        if (r < 0 && errno == EAGAIN)
          continue;
        ::epoll_ctl(ep, EPOLL_CTL_DEL, fd, nullptr);
        if (r > 0 && buf[0] == 'B') {
          const long long bytes = std::atoll(buf + 2);
          std::lock_guard lock(mutex_);
          bulk_.emplace_back([fd, bytes] {
            ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
            std::vector<char> chunk(256 * 1024, 'x');
            long long left = bytes;
            while (left > 0) {
              const auto step = static_cast<std::size_t>(std::min<long long>(left, chunk.size()));
              if (!write_all(fd, chunk.data(), step))
                break;
              left -= static_cast<long long>(step);
            }
            ::close(fd);
          });
          continue;
        }
        if (r > 0) {
          // Idle connections ("I") stay open until the client closes them.
          if (buf[0] == 'I') {
            epoll_event cev{};
            cev.events = EPOLLRDHUP;
            cev.data.fd = fd;
            ::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &cev);
            continue;
          }
          [[maybe_unused]] const ssize_t w =
              ::send(fd, buf, static_cast<std::size_t>(r), MSG_NOSIGNAL);
        }
        ::close(fd);
      }
    }
    ::close(ep);
  }

  std::uint16_t port_ = 0;
  int listen_fd_;
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::vector<std::thread> bulk_;
  std::thread thread_;
};

// Asks an HTTP proxy for the backend (CONNECT) and reads its answer's head, which must be a
// 2xx; nothing follows the head before the client speaks.
bool http_connect(int fd, std::uint16_t backend_port) {
  const std::string target = "127.0.0.1:" + std::to_string(backend_port);
  const std::string request = "CONNECT " + target + " HTTP/1.1\r\nHost: " + target + "\r\n\r\n";
  if (!write_all(fd, request.data(), request.size()))
    return false;
  std::string head;
  char buf[512];
  while (head.find("\r\n\r\n") == std::string::npos) {
    const ssize_t r = ::recv(fd, buf, sizeof buf, 0);
    if (r <= 0 || head.size() > 4096)
      return false;
    head.append(buf, static_cast<std::size_t>(r));
  }
  return head.size() > 12 && head.starts_with("HTTP/1.") && head[9] == '2';
}

// Asks a SOCKS5 proxy for the backend (no authentication).
bool socks5_connect(int fd, std::uint16_t backend_port) {
  // Greeting, then CONNECT: not pipelined, since microsocks reads the greeting with one recv
  // and drops what came with it.
  const char greeting[] = {5, 1, 0};
  const char request[] = {5,
                          1,
                          0,
                          1,
                          127,
                          0,
                          0,
                          1,
                          static_cast<char>(backend_port >> 8),
                          static_cast<char>(backend_port & 0xFF)};
  char method[2];
  char answer[10];
  return write_all(fd, greeting, sizeof greeting) && read_exactly(fd, method, sizeof method) &&
         method[0] == 5 && method[1] == 0 && write_all(fd, request, sizeof request) &&
         read_exactly(fd, answer, sizeof answer) && answer[0] == 5 && answer[1] == 0;
}

// Connects to the proxy and asks it for the backend (HTTP CONNECT or SOCKS5); -1 on failure.
int proxy_connect(std::uint16_t proxy_port, std::uint16_t backend_port, bool http) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int on = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  const timeval limit{10, 0};  // a stuck proxy fails the connection, not the run
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(proxy_port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      !(http ? http_connect(fd, backend_port) : socks5_connect(fd, backend_port))) {
    ::close(fd);
    return -1;
  }
  return fd;
}

struct Options {
  std::string mode = "handshake";
  std::uint16_t proxy_port = 0;
  double seconds = 3;
  int concurrency = 16;
  long long bytes = 256LL << 20;
  bool http = false;  ///< --protocol http: HTTP CONNECT instead of SOCKS5
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view k = argv[i];
    const char* v = argv[i + 1];
    if (k == "--mode")
      o.mode = v;
    else if (k == "--proxy-port")
      o.proxy_port = static_cast<std::uint16_t>(std::atoi(v));
    else if (k == "--seconds")
      o.seconds = std::atof(v);
    else if (k == "--concurrency")
      o.concurrency = std::atoi(v);
    else if (k == "--bytes")
      o.bytes = std::atoll(v);
    else if (k == "--protocol" &&
             (std::string_view(v) == "socks5" || std::string_view(v) == "http"))
      o.http = std::string_view(v) == "http";
    else {
      std::fprintf(stderr, "unknown option %s\n", argv[i]);
      std::exit(2);
    }
  }
  if (o.proxy_port == 0) {
    std::fprintf(stderr, "--proxy-port is required\n");
    std::exit(2);
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  Backend backend;
  std::atomic<long long> done{0};
  std::atomic<long long> failed{0};
  std::vector<std::thread> threads;
  const auto started = Clock::now();
  if (o.mode == "handshake") {
    const auto until = started + std::chrono::duration<double>(o.seconds);
    for (int t = 0; t < o.concurrency; ++t) {
      threads.emplace_back([&] {
        char request[32];
        std::memset(request, 'q', sizeof request);
        char answer[32];
        while (Clock::now() < until) {
          const int fd = proxy_connect(o.proxy_port, backend.port(), o.http);
          const bool ok = fd >= 0 && write_all(fd, request, sizeof request) &&
                          read_exactly(fd, answer, sizeof answer);
          if (fd >= 0)
            ::close(fd);
          (ok ? done : failed).fetch_add(1);
        }
      });
    }
  } else if (o.mode == "bulk") {
    for (int t = 0; t < o.concurrency; ++t) {
      threads.emplace_back([&] {
        const int fd = proxy_connect(o.proxy_port, backend.port(), o.http);
        const std::string ask = "B " + std::to_string(o.bytes) + "\n";
        long long got = 0;
        if (fd >= 0 && write_all(fd, ask.data(), ask.size())) {
          std::vector<char> buf(256 * 1024);
          for (;;) {
            const ssize_t r = ::recv(fd, buf.data(), buf.size(), 0);
            if (r <= 0)
              break;
            got += r;
          }
        }
        if (fd >= 0)
          ::close(fd);
        (got == o.bytes ? done : failed).fetch_add(1);
        if (got == o.bytes)
          return;
      });
    }
  } else if (o.mode == "idle") {
    std::vector<int> fds;
    for (int i = 0; i < o.concurrency; ++i) {
      const int fd = proxy_connect(o.proxy_port, backend.port(), o.http);
      if (fd < 0 || !write_all(fd, "I", 1)) {
        failed.fetch_add(1);
        continue;
      }
      fds.push_back(fd);
      done.fetch_add(1);
    }
    std::printf("idle_open=%lld idle_failed=%lld\n", done.load(), failed.load());
    std::fflush(stdout);
    std::this_thread::sleep_for(std::chrono::duration<double>(o.seconds));
    for (const int fd : fds)
      ::close(fd);
    return failed.load() == 0 ? 0 : 1;
  } else {
    std::fprintf(stderr, "--mode handshake, bulk or idle\n");
    return 2;
  }
  for (auto& t : threads)
    t.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - started).count();
  if (o.mode == "handshake")
    std::printf("handshakes_per_s=%.0f done=%lld failed=%lld\n", done.load() / elapsed, done.load(),
                failed.load());
  else
    std::printf("mb_per_s=%.1f done=%lld failed=%lld\n",
                static_cast<double>(done.load() * o.bytes) / elapsed / 1e6, done.load(),
                failed.load());
  return failed.load() == 0 ? 0 : 1;
}
