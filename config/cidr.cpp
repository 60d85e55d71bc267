#include "config/cidr.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace ipm::config {

std::optional<Cidr> Cidr::parse(std::string_view text, std::string& why) {
  const auto slash = text.find('/');
  const std::string address(text.substr(0, slash));
  Cidr c;
  if (::inet_pton(AF_INET, address.c_str(), c.bytes.data()) == 1) {
    c.v4 = true;
  } else if (::inet_pton(AF_INET6, address.c_str(), c.bytes.data()) == 1) {
    c.v4 = false;
  } else {
    why = "'" + std::string(text) + "' is not an address or an address/prefix";
    return std::nullopt;
  }
  const unsigned max = c.v4 ? 32 : 128;
  c.prefix = max;
  if (slash != std::string_view::npos) {
    const std::string_view p = text.substr(slash + 1);
    unsigned prefix = 0;
    const auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), prefix);
    if (p.empty() || ec != std::errc() || end != p.data() + p.size() || prefix > max) {
      why = "'" + std::string(text) + "': the prefix must be 0-" + std::to_string(max);
      return std::nullopt;
    }
    c.prefix = prefix;
  }
  return c;
}

bool Cidr::contains(const std::uint8_t* address, bool address_v4) const {
  static constexpr std::uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (v4 && !address_v4) {
    if (std::memcmp(address, kMapped, sizeof kMapped) != 0)
      return false;
    address += 12;
    address_v4 = true;
  }
  if (v4 != address_v4)
    return false;
  const unsigned whole = prefix / 8;
  if (std::memcmp(address, bytes.data(), whole) != 0)
    return false;
  const unsigned rest = prefix % 8;
  if (rest == 0)
    return true;
  const auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
  return (address[whole] & mask) == (bytes[whole] & mask);
}

}  // namespace ipm::config
