#include "config/address_rule.hpp"

#include <arpa/inet.h>

#include <charconv>

namespace ipm::config {

bool AddressRule::matches(std::span<const std::uint8_t> address, std::uint16_t p) const {
  if (port != 0 && port != p)
    return false;
  std::span<const std::uint8_t> a = address;
  static constexpr std::array<std::uint8_t, 12> kMapped{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
  if (!v6 && a.size() == 16 && std::equal(kMapped.begin(), kMapped.end(), a.begin()))
    a = a.subspan(12);
  if ((a.size() == 16) != v6)
    return false;
  int bits = prefix;
  for (std::size_t i = 0; bits > 0; ++i, bits -= 8) {
    const std::uint8_t mask = bits >= 8 ? 0xFF : static_cast<std::uint8_t>(0xFF << (8 - bits));
    if ((a[i] & mask) != network[i])
      return false;
  }
  return true;
}

std::optional<AddressRule> parse_address_rule(std::string_view text, std::string& why) {
  AddressRule rule;
  // Split into address, prefix length and port: "[v6]/len:port", "v4/len:port", "v6/len".
  std::string_view ip;
  std::string_view rest;
  if (text.starts_with('[')) {
    const auto close = text.find(']');
    if (close == std::string_view::npos) {
      why = "'" + std::string(text) + "': missing ']'";
      return std::nullopt;
    }
    ip = text.substr(1, close - 1);
    rest = text.substr(close + 1);
  } else if (text.find(':') != std::string_view::npos && text.find(':') == text.rfind(':')) {
    const auto colon = text.find(':');  // one colon: IPv4 with a port
    ip = text.substr(0, colon);
    rest = text.substr(colon);
  } else {
    ip = text;  // IPv4, or IPv6 without a port
  }
  if (const auto slash = ip.find('/'); slash != std::string_view::npos) {
    rest = std::string_view(ip.data() + slash, text.data() + text.size() - (ip.data() + slash));
    ip = ip.substr(0, slash);
  }
  std::string_view prefix_text;
  std::string_view port_text;
  if (rest.starts_with('/')) {
    const auto colon = rest.find(':');
    prefix_text = rest.substr(1, colon == std::string_view::npos ? colon : colon - 1);
    rest = colon == std::string_view::npos ? std::string_view{} : rest.substr(colon);
  }
  bool port_given = false;
  if (rest.starts_with(':')) {
    port_text = rest.substr(1);
    port_given = true;
    rest = {};
  }
  if (!rest.empty()) {
    why = "'" + std::string(text) + "': expected CIDR[:port]";
    return std::nullopt;
  }
  const std::string ip_text(ip);
  int max_prefix = 32;
  if (::inet_pton(AF_INET6, ip_text.c_str(), rule.network.data()) == 1) {
    rule.v6 = true;
    max_prefix = 128;
  } else if (::inet_pton(AF_INET, ip_text.c_str(), rule.network.data()) != 1) {
    why = "'" + ip_text + "' is not an IP address or CIDR";
    return std::nullopt;
  }
  rule.prefix = max_prefix;
  if (!prefix_text.empty() || text.find('/') != std::string_view::npos) {
    const auto [end, ec] =
        std::from_chars(prefix_text.data(), prefix_text.data() + prefix_text.size(), rule.prefix);
    if (prefix_text.empty() || ec != std::errc() ||
        end != prefix_text.data() + prefix_text.size() || rule.prefix < 0 ||
        rule.prefix > max_prefix) {
      why = "'" + std::string(text) + "': bad prefix length (0-" + std::to_string(max_prefix) + ")";
      return std::nullopt;
    }
  }
  for (int bit = rule.prefix; bit < 128; ++bit)
    rule.network[static_cast<std::size_t>(bit / 8)] &=
        static_cast<std::uint8_t>(~(0x80U >> (bit % 8)));
  if (port_given) {
    unsigned p = 0;
    const auto [end, ec] =
        std::from_chars(port_text.data(), port_text.data() + port_text.size(), p);
    if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() ||
        p == 0 || p > 65535) {
      why = "'" + std::string(text) + "': bad port (1-65535)";
      return std::nullopt;
    }
    rule.port = static_cast<std::uint16_t>(p);
  }
  rule.text = std::string(text);
  return rule;
}

}  // namespace ipm::config
