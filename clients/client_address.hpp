#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ipm::clients {

/// A client's IP address as the rules and limits see it: 4 bytes for IPv4, 16 for IPv6.
/// An IPv4-mapped IPv6 address (::ffff:10.1.2.3, as a dual-stack listener reports its IPv4
/// clients) is stored as the IPv4 address, so one client has one identity.
struct ClientAddress {
  std::array<std::uint8_t, 16> bytes{};
  bool v4 = true;

  /// "10.1.2.3", "::1", "::ffff:10.1.2.3"; nullopt when not an address.
  static std::optional<ClientAddress> parse(std::string_view text);
  /// The address of an endpoint as the proxy writes it: "10.1.2.3:5000", "[::1]:5000"
  /// (a bare address is taken too); nullopt when it holds none.
  static std::optional<ClientAddress> of_endpoint(std::string_view endpoint);
  /// From raw network-order bytes (4 or 16 of them).
  static ClientAddress from_bytes(const std::uint8_t* address, bool is_v4);

  /// This address with every bit past `prefix` cleared (the subnet a limit counts by).
  ClientAddress masked(unsigned prefix) const;
  std::string to_string() const;

  friend bool operator==(const ClientAddress&, const ClientAddress&) = default;
};

struct ClientAddressHash {
  std::size_t operator()(const ClientAddress& a) const noexcept;
};

}  // namespace ipm::clients
