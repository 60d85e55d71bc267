#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ipm::protocol {

enum class AddressType : std::uint8_t { ipv4, ipv6, domain };

/// Where a client asks to go (or, in a SOCKS reply, the bound address): an IP address or a
/// domain name, and a port. A domain that is an IP literal is stored as that IP, so every
/// check on addresses sees it.
struct Destination {
  AddressType type = AddressType::domain;
  std::array<std::uint8_t, 16> ip{};  ///< network order; IPv4 in the first 4 bytes
  std::string host;                   ///< the domain, or the IP in text form
  std::uint16_t port = 0;

  static Destination ipv4(std::array<std::uint8_t, 4> address, std::uint16_t port);
  static Destination ipv6(const std::array<std::uint8_t, 16>& address, std::uint16_t port);
  /// A host as a client wrote it (a domain, an IPv4 literal, an IPv6 literal without
  /// brackets) and a port. nullopt when the host is empty, longer than 255 bytes, or holds
  /// a byte outside printable ASCII.
  static std::optional<Destination> from_host(std::string_view host, std::uint16_t port);

  bool is_ip() const { return type != AddressType::domain; }
  /// "host:port", "[v6]:port".
  std::string to_string() const;
  /// "host" or "[v6]" (for Host headers and URIs).
  std::string host_for_uri() const;

  friend bool operator==(const Destination&, const Destination&) = default;
};

/// Parses "host:port", "[v6]:port" (an authority, as in CONNECT). Without a port it uses
/// `default_port`, or fails when that is 0.
std::optional<Destination> parse_authority(std::string_view authority,
                                           std::uint16_t default_port = 0);

/// A decimal port 1-65535.
std::optional<std::uint16_t> parse_port(std::string_view text);

}  // namespace ipm::protocol
