#include "clients/client_address.hpp"

#include <arpa/inet.h>

#include <cstring>

namespace ipm::clients {

namespace {

constexpr std::uint8_t kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

}  // namespace

std::optional<ClientAddress> ClientAddress::parse(std::string_view text) {
  const std::string s(text);
  std::array<std::uint8_t, 16> raw{};
  if (::inet_pton(AF_INET, s.c_str(), raw.data()) == 1)
    return from_bytes(raw.data(), true);
  if (::inet_pton(AF_INET6, s.c_str(), raw.data()) == 1)
    return from_bytes(raw.data(), false);
  return std::nullopt;
}

std::optional<ClientAddress> ClientAddress::of_endpoint(std::string_view endpoint) {
  if (endpoint.starts_with('[')) {
    const auto close = endpoint.find(']');
    return close == std::string_view::npos ? std::nullopt : parse(endpoint.substr(1, close - 1));
  }
  const auto colon = endpoint.rfind(':');
  if (colon != std::string_view::npos && endpoint.find(':') == colon)
    return parse(endpoint.substr(0, colon));  // "IPv4:port"
  return parse(endpoint);                     // a bare address
}

ClientAddress ClientAddress::from_bytes(const std::uint8_t* address, bool is_v4) {
  ClientAddress a;
  if (!is_v4 && std::memcmp(address, kMappedPrefix, sizeof kMappedPrefix) == 0) {
    address += sizeof kMappedPrefix;
    is_v4 = true;
  }
  a.v4 = is_v4;
  std::memcpy(a.bytes.data(), address, is_v4 ? 4 : 16);
  return a;
}

ClientAddress ClientAddress::masked(unsigned prefix) const {
  ClientAddress out = *this;
  const unsigned bits = v4 ? 32 : 128;
  for (unsigned bit = prefix; bit < bits; ++bit)
    out.bytes[bit / 8] &= static_cast<std::uint8_t>(~(0x80u >> (bit % 8)));
  return out;
}

std::string ClientAddress::to_string() const {
  char text[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(v4 ? AF_INET : AF_INET6, bytes.data(), text, sizeof text);
  return text;
}

std::size_t ClientAddressHash::operator()(const ClientAddress& a) const noexcept {
  // FNV-1a over the bytes that matter and the family.
  std::uint64_t h = 1469598103934665603ULL ^ (a.v4 ? 4U : 6U);
  for (std::size_t i = 0; i < (a.v4 ? 4U : 16U); ++i) {
    h ^= a.bytes[i];
    h *= 1099511628211ULL;
  }
  return static_cast<std::size_t>(h);
}

}  // namespace ipm::clients
