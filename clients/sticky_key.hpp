#pragma once

#include <string>
#include <string_view>

#include "config/dispatch.hpp"

namespace ipm::clients {

/// What a request offers to key its egress by.
struct StickyInputs {
  std::string_view client;       ///< the client's endpoint, "addr:port" or "[v6]:port"
  std::string_view username;     ///< as the client authenticated ("alice-session-abc123")
  std::string_view egress_key;   ///< the tcp client's X-Egress-Key
  std::string_view destination;  ///< the destination host (tcp: X-Egress-Host, else Host)
};

/// The key that keeps a request on one egress under a front end's `sticky` mode, or "" when
/// the request carries none (the pool's policy then picks):
///   client       the client's address without its port ("10.0.0.5", "fd00::1"; an
///                IPv4-mapped address is its IPv4 one), so all its connections share a key
///   username     the session part of the username ("abc123" of "alice-session-abc123");
///                a name without one has no key
///   key          the X-Egress-Key value
///   destination  the destination host, lower-cased (DNS names are case-insensitive)
/// The key does not say which mode made it: one key on two front ends lands on one egress.
std::string sticky_key(config::Sticky mode, const StickyInputs& in);

}  // namespace ipm::clients
