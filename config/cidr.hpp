#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
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
  friend bool operator==(const Cidr&, const Cidr&) = default;
};

/// One entry of allow_destinations / deny_destinations: a block and an optional port.
/// Written "10.0.0.0/8", "127.0.0.1" (a /32), "127.0.0.0/8:8080", "::1", "[fe80::]/10:443".
struct AddressRule {
  Cidr block;
  std::uint16_t port = 0;  ///< 0: every port
  std::string text;        ///< as written

  /// `address` is 4 or 16 bytes in network order; matched as Cidr::contains does.
  bool matches(std::span<const std::uint8_t> address, std::uint16_t port) const;
  friend bool operator==(const AddressRule&, const AddressRule&) = default;
};

/// A rule from its text; nullopt and `why` set on a bad rule.
std::optional<AddressRule> parse_address_rule(std::string_view text, std::string& why);

}  // namespace ipm::config
