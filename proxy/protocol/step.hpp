#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace ipm::protocol {

using Bytes = std::span<const std::byte>;

/// What a codec's put() did with the bytes it was given.
enum class Status : std::uint8_t {
  need_more,  ///< everything given was consumed; feed more bytes
  reply,      ///< send output() to the peer, then feed the bytes not consumed yet (and more)
  done,       ///< the handshake is complete; bytes after `consumed` belong to the stream
  error,      ///< send output() (it may be empty), then close; failure() says why
};

struct Step {
  std::size_t consumed = 0;  ///< bytes of the input used by this step
  Status status = Status::need_more;
};

/// Why a handshake failed, for the reply chosen and for metrics (`reason` label).
enum class Failure : std::uint8_t {
  none,
  bad_version,          ///< not the protocol's version byte
  no_method,            ///< SOCKS5: no authentication method we accept was offered
  auth_failed,          ///< wrong or missing credentials
  unsupported_command,  ///< BIND, UDP ASSOCIATE, or an unknown command
  unsupported_address,  ///< an unknown SOCKS5 address type
  malformed,            ///< bytes that break the protocol's grammar
  too_large,            ///< a field or head over its limit (a domain, a request head)
  refused,              ///< the upstream answered with a refusal (reply_code() tells which)
};

inline constexpr std::size_t kFailureCount = 9;

constexpr std::string_view to_string(Failure f) {
  switch (f) {
    case Failure::none:
      return "none";
    case Failure::bad_version:
      return "bad_version";
    case Failure::no_method:
      return "no_method";
    case Failure::auth_failed:
      return "auth_failed";
    case Failure::unsupported_command:
      return "unsupported_command";
    case Failure::unsupported_address:
      return "unsupported_address";
    case Failure::malformed:
      return "malformed";
    case Failure::too_large:
      return "too_large";
    case Failure::refused:
      return "refused";
  }
  return "malformed";
}

}  // namespace ipm::protocol
