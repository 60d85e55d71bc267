#include "config/cidr.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace ipm::config {
namespace {

bool parse_block_and_port(std::string_view text, std::string_view block,
                          std::optional<std::string_view> port_text, AddressRule& rule,
                          std::string& why) {
  auto cidr = Cidr::parse(block, why);
  if (!cidr)
    return false;
  rule.block = *cidr;
  if (port_text) {
    unsigned p = 0;
    const auto [end, ec] =
        std::from_chars(port_text->data(), port_text->data() + port_text->size(), p);
    if (port_text->empty() || ec != std::errc() || end != port_text->data() + port_text->size() ||
        p == 0 || p > 65535) {
      why = "'" + std::string(text) + "': bad port (1-65535)";
      return false;
    }
    rule.port = static_cast<std::uint16_t>(p);
  }
  rule.text = std::string(text);
  return true;
}

}  // namespace

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

bool AddressRule::matches(std::span<const std::uint8_t> address, std::uint16_t p) const {
  return (port == 0 || port == p) && (address.size() == 4 || address.size() == 16) &&
         block.contains(address.data(), address.size() == 4);
}

std::optional<AddressRule> parse_address_rule(std::string_view text, std::string& why) {
  // Split off the port: "[v6]/len:port", "v4/len:port"; a bare IPv6 block has no port.
  std::string_view block = text;
  std::optional<std::string_view> port_text;
  if (text.starts_with('[')) {
    const auto close = text.find(']');
    if (close == std::string_view::npos) {
      why = "'" + std::string(text) + "': missing ']'";
      return std::nullopt;
    }
    std::string_view rest = text.substr(close + 1);
    std::string block_text(text.substr(1, close - 1));
    if (rest.starts_with('/')) {
      const auto colon = rest.find(':');
      block_text += rest.substr(0, colon);
      rest = colon == std::string_view::npos ? std::string_view{} : rest.substr(colon);
    }
    if (!rest.empty() && !rest.starts_with(':')) {
      why = "'" + std::string(text) + "': expected CIDR[:port]";
      return std::nullopt;
    }
    if (!rest.empty())
      port_text = rest.substr(1);
    AddressRule rule;
    if (!parse_block_and_port(text, block_text, port_text, rule, why))
      return std::nullopt;
    return rule;
  }
  if (const auto colon = text.find(':');
      colon != std::string_view::npos && colon == text.rfind(':')) {  // one colon: IPv4:port
    block = text.substr(0, colon);
    port_text = text.substr(colon + 1);
  }
  AddressRule rule;
  if (!parse_block_and_port(text, block, port_text, rule, why))
    return std::nullopt;
  return rule;
}

}  // namespace ipm::config
