#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace ipm::test {

/// A loopback HTTP server (127.0.0.1 unless told another loopback address, a free port) that
/// answers every request with the address the connection came from, so a test through a proxy sees
/// the egress actually used. It also records each connection's source address, including
/// connections that send nothing. One thread, stopped and joined by the destructor.
class WhoAmIServer {
 public:
  explicit WhoAmIServer(const char* address = "127.0.0.1");
  ~WhoAmIServer();
  WhoAmIServer(const WhoAmIServer&) = delete;
  WhoAmIServer& operator=(const WhoAmIServer&) = delete;

  std::uint16_t port() const { return port_; }
  /// The source address of every connection accepted so far, in order.
  std::vector<std::string> peers() const;

 private:
  void serve();

  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  mutable std::mutex mutex_;
  std::vector<std::string> peers_;
  std::thread thread_;
};

}  // namespace ipm::test
