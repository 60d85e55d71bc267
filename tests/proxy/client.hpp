#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ipm::proxy::test {

/// An owned file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  Fd& operator=(Fd&& o) noexcept;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }

  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  void reset();

 private:
  int fd_ = -1;
};

/// A blocking TCP socket to 127.0.0.1:port with 10 s send/receive timeouts so a broken
/// proxy fails the test instead of hanging it. Throws on failure.
Fd connect_to(std::uint16_t port);

/// An unconnected TCP socket (for tests that must create it before fds run out).
Fd new_socket();
void connect_socket(const Fd& fd, std::uint16_t port);

/// Writes everything; false on error.
bool write_all(const Fd& fd, std::string_view data);

/// How a read to the end went.
struct ReadResult {
  std::string data;
  int error = 0;  ///< errno when the stream ended by an error (ECONNRESET, EAGAIN...), 0 on EOF
};
ReadResult read_to_end(const Fd& fd);

/// Reads exactly `n` bytes (or fewer if the stream ends).
std::string read_exactly(const Fd& fd, std::size_t n);

/// True when `fd` has something to read (bytes, EOF or error) within `ms` milliseconds.
bool readable_within(const Fd& fd, int ms);

void shutdown_write(const Fd& fd);
/// Closes with SO_LINGER 0: the peer gets a RST.
void reset(Fd& fd);

/// `n` pseudo-random bytes from `seed`.
std::string random_bytes(std::size_t n, std::uint32_t seed);

/// Number of open file descriptors of this process (/proc/self/fd).
int open_fd_count();

}  // namespace ipm::proxy::test
