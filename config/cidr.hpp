#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ipm::config {

/// An address block such as 10.0.0.0/8, 2001:db8::/32 or a single address (a /32 or /128).
/// IPv4 blocks also match IPv4-mapped IPv6 addresses (::ffff:10.1.2.3), as a dual-stack
/// listener reports its IPv4 clients.
struct Cidr {
  std::array<std::uint8_t, 16> bytes{};  ///< IPv4 in the first 4
  bool v4 = true;
  unsigned prefix = 32;

  /// "10.0.0.0/8", "::1", ...; nullopt with `why` set when malformed.
  static std::optional<Cidr> parse(std::string_view text, std::string& why);

  /// Whether the address (4 bytes for IPv4, 16 for IPv6) is inside the block.
  bool contains(const std::uint8_t* address, bool address_v4) const;
};

}  // namespace ipm::config
