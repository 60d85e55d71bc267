#include "proxy/protocol/destination.hpp"

#include <arpa/inet.h>

#include <charconv>

namespace ipm::protocol {

Destination Destination::ipv4(std::array<std::uint8_t, 4> address, std::uint16_t port) {
  Destination d;
  d.type = AddressType::ipv4;
  std::copy(address.begin(), address.end(), d.ip.begin());
  char text[INET_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET, d.ip.data(), text, sizeof text);
  d.host = text;
  d.port = port;
  return d;
}

Destination Destination::ipv6(const std::array<std::uint8_t, 16>& address, std::uint16_t port) {
  Destination d;
  d.type = AddressType::ipv6;
  d.ip = address;
  char text[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET6, d.ip.data(), text, sizeof text);
  d.host = text;
  d.port = port;
  return d;
}

std::optional<Destination> Destination::from_host(std::string_view host, std::uint16_t port) {
  if (host.empty() || host.size() > 255)
    return std::nullopt;
  for (const char c : host) {
    if (c <= ' ' || c > '~')
      return std::nullopt;
  }
  const std::string text(host);
  std::array<std::uint8_t, 16> bytes{};
  if (::inet_pton(AF_INET, text.c_str(), bytes.data()) == 1)
    return ipv4({bytes[0], bytes[1], bytes[2], bytes[3]}, port);
  if (::inet_pton(AF_INET6, text.c_str(), bytes.data()) == 1)
    return ipv6(bytes, port);
  Destination d;
  d.host = text;
  d.port = port;
  return d;
}

std::string Destination::host_for_uri() const {
  return type == AddressType::ipv6 ? "[" + host + "]" : host;
}

std::string Destination::to_string() const {
  return host_for_uri() + ":" + std::to_string(port);
}

std::optional<std::uint16_t> parse_port(std::string_view text) {
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value == 0 ||
      value > 65535)
    return std::nullopt;
  return static_cast<std::uint16_t>(value);
}

std::optional<Destination> parse_authority(std::string_view authority, std::uint16_t default_port) {
  std::string_view host;
  std::string_view rest;
  if (authority.starts_with('[')) {
    const auto close = authority.find(']');
    if (close == std::string_view::npos)
      return std::nullopt;
    host = authority.substr(1, close - 1);
    rest = authority.substr(close + 1);
    if (!rest.empty() && !rest.starts_with(':'))
      return std::nullopt;
    std::array<std::uint8_t, 16> bytes{};
    if (::inet_pton(AF_INET6, std::string(host).c_str(), bytes.data()) != 1)
      return std::nullopt;
  } else {
    const auto colon = authority.rfind(':');
    if (colon != std::string_view::npos && authority.find(':') != colon)
      return std::nullopt;  // an IPv6 literal must be bracketed
    host = authority.substr(0, colon);
    rest = colon == std::string_view::npos ? std::string_view{} : authority.substr(colon);
  }
  std::uint16_t port = default_port;
  if (!rest.empty()) {
    const auto p = parse_port(rest.substr(1));
    if (!p)
      return std::nullopt;
    port = *p;
  }
  if (port == 0)
    return std::nullopt;
  return Destination::from_host(host, port);
}

}  // namespace ipm::protocol
