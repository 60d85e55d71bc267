#pragma once

#include <cstdint>
#include <vector>

#include "proxy/protocol/credentials.hpp"
#include "proxy/protocol/destination.hpp"
#include "proxy/protocol/step.hpp"

namespace ipm::protocol {

/// SOCKS4 reply codes.
namespace socks4 {
inline constexpr std::uint8_t kGranted = 90;
inline constexpr std::uint8_t kRejected = 91;
inline constexpr std::uint8_t kNoIdentd = 92;
inline constexpr std::uint8_t kIdentdMismatch = 93;
/// Longest USERID or SOCKS4a domain accepted (both are NUL-terminated, so unbounded on the
/// wire).
inline constexpr std::size_t kMaxField = 255;
}  // namespace socks4

/// The server side of a SOCKS4 CONNECT, and of SOCKS4a (a domain after the USERID when the
/// address is 0.0.0.x, x != 0). SOCKS4 has no password: a listener that requires
/// authentication rejects it (91). The single request is answered with socks4_reply().
class Socks4Server {
 public:
  explicit Socks4Server(bool auth_required = false) : auth_required_(auth_required) {}

  Step put(Bytes in);

  const std::vector<std::byte>& output() const { return output_; }
  Failure failure() const { return failure_; }
  const Destination& destination() const { return destination_; }
  /// The USERID (never `given`: SOCKS4 carries no password).
  const Credentials& credentials() const { return credentials_; }

 private:
  Step fail(Failure why, std::size_t consumed);

  bool auth_required_;
  bool finished_ = false;
  std::vector<std::byte> output_;
  Failure failure_ = Failure::none;
  Destination destination_;
  Credentials credentials_;
};

/// An 8-byte SOCKS4 reply; `bound` fills port and IPv4 address when it is one.
std::vector<std::byte> socks4_reply(std::uint8_t code, const Destination* bound = nullptr);

}  // namespace ipm::protocol
