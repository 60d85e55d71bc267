#include "tests/support/http_client.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace ipm::test {
namespace {

class Socket {
 public:
  Socket() : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) {}
  ~Socket() {
    if (fd_ >= 0)
      ::close(fd_);
  }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_;
};

using Clock = std::chrono::steady_clock;

// Waits for `events` until the deadline; false on timeout.
bool wait_fd(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0)
      return false;
    pollfd p{fd, events, 0};
    const int r = ::poll(&p, 1, static_cast<int>(left));
    if (r > 0)
      return true;
    if (r < 0 && errno != EINTR)
      return false;
  }
}

bool to_addr(const std::string& host, std::uint16_t port, sockaddr_in& addr) {
  addr = {};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  return ::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) == 1;
}

HttpResponse failure(std::string why) {
  HttpResponse r;
  r.error = std::move(why);
  return r;
}

void parse_response(const std::string& raw, HttpResponse& out) {
  const auto end = raw.find("\r\n\r\n");
  if (end == std::string::npos || raw.compare(0, 5, "HTTP/") != 0) {
    out.error = "unparsable response: " + raw.substr(0, 80);
    return;
  }
  out.headers = raw.substr(0, end);
  out.body = raw.substr(end + 4);
  const auto sp = raw.find(' ');
  if (sp != std::string::npos && sp + 4 <= raw.size()) {
    out.status = std::atoi(raw.substr(sp + 1, 3).c_str());
  }
}

}  // namespace

HttpResponse http_get(const std::string& host, std::uint16_t port, const std::string& path,
                      const Headers& headers, std::chrono::milliseconds timeout,
                      const std::string& source) {
  return http_request("GET", host, port, path, headers, timeout, source);
}

HttpResponse http_request(const std::string& method, const std::string& host, std::uint16_t port,
                          const std::string& path, const Headers& headers,
                          std::chrono::milliseconds timeout, const std::string& source) {
  const auto deadline = Clock::now() + timeout;
  sockaddr_in addr{};
  if (!to_addr(host, port, addr))
    return failure("not an IPv4 address: " + host);
  Socket s;
  if (s.fd() < 0)
    return failure(std::string("socket: ") + std::strerror(errno));
  if (!source.empty()) {
    sockaddr_in local{};
    if (!to_addr(source, 0, local))
      return failure("not an IPv4 address: " + source);
    if (::bind(s.fd(), reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
      return failure(std::string("bind: ") + std::strerror(errno));
    }
  }
  if (::connect(s.fd(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    if (errno != EINPROGRESS)
      return failure(std::string("connect: ") + std::strerror(errno));
    if (!wait_fd(s.fd(), POLLOUT, deadline))
      return failure("connect: timeout");
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(s.fd(), SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0)
      return failure(std::string("connect: ") + std::strerror(err));
  }
  std::string request = method + " " + path + " HTTP/1.0\r\nHost: " + host + ":" +
                        std::to_string(port) + "\r\nConnection: close\r\n";
  for (const auto& [name, value] : headers)
    request += name + ": " + value + "\r\n";
  request += "\r\n";
  std::size_t sent = 0;
  while (sent < request.size()) {
    const ssize_t n = ::send(s.fd(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!wait_fd(s.fd(), POLLOUT, deadline))
        return failure("send: timeout");
    } else {
      return failure(std::string("send: ") + std::strerror(errno));
    }
  }
  std::string raw;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::recv(s.fd(), buf, sizeof buf, 0);
    if (n > 0) {
      raw.append(buf, static_cast<std::size_t>(n));
    } else if (n == 0) {
      break;
    } else if (errno == EAGAIN || errno == EINTR) {
      if (!wait_fd(s.fd(), POLLIN, deadline))
        return failure("recv: timeout");
    } else {
      if (raw.empty())
        return failure(std::string("recv: ") + std::strerror(errno));
      break;
    }
  }
  if (raw.empty())
    return failure(kClosedWithoutAnswer);
  HttpResponse response;
  parse_response(raw, response);
  return response;
}

}  // namespace ipm::test
