#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace ipm::config {

/// One entry of allow_destinations / deny_destinations: a CIDR and an optional port.
/// Written "10.0.0.0/8", "127.0.0.1" (a /32), "127.0.0.0/8:8080", "::1", "[fe80::]/10:443".
struct AddressRule {
  bool v6 = false;
  std::array<std::uint8_t, 16> network{};  ///< masked to `prefix` bits
  int prefix = 0;
  std::uint16_t port = 0;  ///< 0: every port
  std::string text;        ///< as written

  /// `address` is 4 or 16 bytes in network order. An IPv4-mapped IPv6 address matches the
  /// IPv4 rules.
  bool matches(std::span<const std::uint8_t> address, std::uint16_t port) const;
  friend bool operator==(const AddressRule&, const AddressRule&) = default;
};

/// A rule from its text; nullopt and `why` set on a bad rule.
std::optional<AddressRule> parse_address_rule(std::string_view text, std::string& why);

}  // namespace ipm::config
