#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "proxy/protocol/destination.hpp"

namespace ipm::protocol {

/// Which protocol a mixed listener's client speaks, told by its first byte.
enum class FrontProtocol : std::uint8_t { socks5, socks4, http, unknown };

FrontProtocol detect(std::byte first);

std::string_view to_string(FrontProtocol p);

/// Why a request that passed its handshake was not connected: each front end answers it in
/// its own protocol (see refusal_reply()).
enum class Refusal : std::uint8_t {
  not_allowed,       ///< the destination is refused by policy
  no_egress,         ///< the pool had nothing to offer
  dns_failed,        ///< the domain did not resolve
  refused,           ///< the destination (or an upstream for it) refused the connection
  unreachable,       ///< host or network unreachable
  timeout,           ///< the dial timed out
  failed,            ///< anything else (a failed bind, an upstream's general failure)
  address_mismatch,  ///< no egress of the destination's address family
  client_limit,      ///< the client holds as many connections as it may (per-client caps)
  loop,              ///< redirect: the original destination is the gateway's own listener
  /// redirect: conntrack has no original destination for the connection
  no_original_destination,
};

inline constexpr std::size_t kRefusalCount = 11;

std::string_view to_string(Refusal r);

/// The SOCKS5 reply code for a refusal.
std::uint8_t socks5_code(Refusal r);
/// The HTTP status for a refusal (403, 429, 503, 502, 504).
int http_status(Refusal r);

/// A complete HTTP/1.1 response without body for a proxy error (`Connection: close`); 407
/// carries `Proxy-Authenticate: Basic`.
std::vector<std::byte> http_response(int status);

/// `HTTP/1.1 200 Connection established`.
std::vector<std::byte> http_connect_established();

}  // namespace ipm::protocol
