#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "proxy/protocol/credentials.hpp"
#include "proxy/protocol/destination.hpp"
#include "proxy/protocol/step.hpp"

namespace ipm::protocol {

/// SOCKS5 reply codes (RFC 1928, section 6).
namespace socks5 {
inline constexpr std::uint8_t kSucceeded = 0x00;
inline constexpr std::uint8_t kGeneralFailure = 0x01;
inline constexpr std::uint8_t kNotAllowed = 0x02;
inline constexpr std::uint8_t kNetworkUnreachable = 0x03;
inline constexpr std::uint8_t kHostUnreachable = 0x04;
inline constexpr std::uint8_t kConnectionRefused = 0x05;
inline constexpr std::uint8_t kTtlExpired = 0x06;
inline constexpr std::uint8_t kCommandNotSupported = 0x07;
inline constexpr std::uint8_t kAddressTypeNotSupported = 0x08;

inline constexpr std::uint8_t kNoAuth = 0x00;
inline constexpr std::uint8_t kUserPassword = 0x02;
inline constexpr std::uint8_t kNoAcceptable = 0xFF;
}  // namespace socks5

/// The server side of a SOCKS5 handshake (RFC 1928 CONNECT, RFC 1929 username/password):
/// method selection, optional authentication, then the request. Incremental: feed the client's
/// bytes in any slicing; each `reply` step leaves output() to be sent before going on.
/// The final reply (success or a refusal after the dial) is built with socks5_reply().
class Socks5Server {
 public:
  explicit Socks5Server(CredentialCheck check = {});

  Step put(Bytes in);

  /// Bytes to send after a `reply` or `error` step.
  const std::vector<std::byte>& output() const { return output_; }
  Failure failure() const { return failure_; }
  /// After `done`: where the client wants to go, and who it said it was.
  const Destination& destination() const { return destination_; }
  const Credentials& credentials() const { return credentials_; }

 private:
  enum class Phase : std::uint8_t { greeting, auth, request, finished };

  Step greeting(Bytes in);
  Step auth(Bytes in);
  Step request(Bytes in);
  Step fail(Failure why, std::size_t consumed, std::vector<std::byte> reply);

  CredentialCheck check_;
  Phase phase_ = Phase::greeting;
  std::vector<std::byte> output_;
  Failure failure_ = Failure::none;
  Destination destination_;
  Credentials credentials_;
};

/// A SOCKS5 reply: `code` and the bound address (IPv4 0.0.0.0:0 when `bound` is a domain or
/// absent, as RFC 1928 allows for refusals).
std::vector<std::byte> socks5_reply(std::uint8_t code, const Destination* bound = nullptr);

}  // namespace ipm::protocol
