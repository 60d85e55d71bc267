#include "tests/support/whoami_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>

namespace ipm::test {

WhoAmIServer::WhoAmIServer(const char* address) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int on = 1;
  ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  socklen_t len = sizeof a;
  if (::inet_pton(AF_INET, address, &a.sin_addr) != 1 ||
      ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd_, 512) != 0 ||
      ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    ::close(fd_);
    throw std::runtime_error(std::string("whoami: cannot listen on ") + address);
  }
  port_ = ntohs(a.sin_port);
  thread_ = std::thread([this] { serve(); });
}

WhoAmIServer::~WhoAmIServer() {
  stop_ = true;
  thread_.join();
  ::close(fd_);
}

std::vector<std::string> WhoAmIServer::peers() const {
  std::lock_guard lock(mutex_);
  return peers_;
}

void WhoAmIServer::serve() {
  while (!stop_) {
    pollfd listening{fd_, POLLIN, 0};
    if (::poll(&listening, 1, 20) <= 0)
      continue;
    sockaddr_in peer{};
    socklen_t len = sizeof peer;
    const int c = ::accept4(fd_, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_CLOEXEC);
    if (c < 0)
      continue;
    char ip[INET_ADDRSTRLEN] = {};
    ::inet_ntop(AF_INET, &peer.sin_addr, ip, sizeof ip);
    {
      std::lock_guard lock(mutex_);
      peers_.emplace_back(ip);
    }
    // One request head (bounded wait), one answer, close.
    std::string head;
    char buf[4096];
    while (head.find("\r\n\r\n") == std::string::npos && head.size() < 65536) {
      pollfd readable{c, POLLIN, 0};
      if (::poll(&readable, 1, 2000) <= 0)
        break;
      const ssize_t n = ::read(c, buf, sizeof buf);
      if (n <= 0)
        break;
      head.append(buf, static_cast<std::size_t>(n));
    }
    if (head.find("\r\n\r\n") != std::string::npos) {
      const std::string body(ip);
      const std::string reply =
          "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) +
          "\r\nConnection: close\r\n\r\n" + body;
      [[maybe_unused]] const ssize_t w = ::send(c, reply.data(), reply.size(), MSG_NOSIGNAL);
    }
    ::close(c);
  }
}

}  // namespace ipm::test
