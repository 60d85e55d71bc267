#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace ipm::proxy::test {

/// What a LoopbackBackend does with each connection it accepts.
enum class BackendMode {
  echo,         ///< echoes every byte; on EOF shuts down its sending side and closes
  exchange,     ///< writes `payload` then shuts down sending, meanwhile reads to EOF
  sink,         ///< waits for the gate, then reads to EOF (counts; keeps nothing)
  reset_after,  ///< reads `reset_after_bytes` bytes, then resets the connection
};

/// What one backend connection saw, recorded when it ends.
struct BackendRecord {
  std::string received;  ///< kept in exchange mode only
  std::uint64_t bytes_received = 0;
  bool clean_eof = false;  ///< ended by EOF (not by an error)
};

/// A real TCP server on 127.0.0.1:ephemeral running on its own thread, used as the egress
/// the proxy dials. Stops and joins on destruction. Thread-safe accessors.
class LoopbackBackend {
 public:
  explicit LoopbackBackend(BackendMode mode, std::string payload = {},
                           std::uint64_t reset_after_bytes = 0);
  LoopbackBackend(const LoopbackBackend&) = delete;
  LoopbackBackend& operator=(const LoopbackBackend&) = delete;
  ~LoopbackBackend();

  std::uint16_t port() const { return port_; }
  void open_gate() { gate_open_ = true; }
  std::uint64_t accepted() const { return accepted_.load(); }
  int active() const { return active_.load(); }

  /// Waits (bounded, 10 s) until `n` connections have ended; returns their records.
  std::vector<BackendRecord> wait_for_records(std::size_t n) const;

 private:
  boost::asio::io_context ctx_{1};
  boost::asio::ip::tcp::acceptor acceptor_{ctx_};
  const BackendMode mode_;
  const std::string payload_;
  const std::uint64_t reset_after_bytes_;
  std::uint16_t port_ = 0;
  std::atomic<bool> gate_open_{false};
  std::atomic<std::uint64_t> accepted_{0};
  std::atomic<int> active_{0};
  mutable std::mutex mutex_;
  std::vector<BackendRecord> records_;
  std::thread thread_;

  friend struct BackendSession;
  void record(BackendRecord r);
};

/// A port on 127.0.0.1 where connections are refused: bound, never listening.
class RefusingPort {
 public:
  RefusingPort();
  std::uint16_t port() const { return port_; }

 private:
  boost::asio::io_context ctx_;
  boost::asio::ip::tcp::socket socket_{ctx_};
  std::uint16_t port_ = 0;
};

/// A listener on 127.0.0.1 that never accepts and whose accept queue is full, so the kernel
/// drops further SYNs: a dial to it times out, like a black-holed address.
class BlackHole {
 public:
  BlackHole();
  ~BlackHole();
  std::uint16_t port() const { return port_; }

 private:
  int listener_ = -1;
  std::vector<int> fillers_;
  std::uint16_t port_ = 0;
};

}  // namespace ipm::proxy::test
