#include "proxy/destination_policy.hpp"

#include <algorithm>
#include <span>

namespace ipm::proxy {
namespace {

config::AddressRule rule(std::string_view text) {
  std::string why;
  return *config::parse_address_rule(text, why);  // constant, valid text
}

// The host's own address as a rule of its own (a /32 or /128, every port).
config::AddressRule exactly(const boost::asio::ip::address& a) {
  config::AddressRule r;
  r.block.v4 = a.is_v4();
  r.block.prefix = r.block.v4 ? 32 : 128;
  if (r.block.v4) {
    const auto b = a.to_v4().to_bytes();
    std::copy(b.begin(), b.end(), r.block.bytes.begin());
  } else {
    const auto b = a.to_v6().to_bytes();
    std::copy(b.begin(), b.end(), r.block.bytes.begin());
  }
  r.text = a.to_string();
  return r;
}

bool any_match(const std::vector<config::AddressRule>& rules, std::span<const std::uint8_t> address,
               std::uint16_t port) {
  return std::any_of(rules.begin(), rules.end(),
                     [&](const config::AddressRule& r) { return r.matches(address, port); });
}

}  // namespace

DestinationPolicy::DestinationPolicy(std::vector<config::AddressRule> allow,
                                     std::vector<config::AddressRule> deny,
                                     const std::vector<boost::asio::ip::address>& own_addresses)
    : allow_(std::move(allow)), deny_(std::move(deny)) {
  for (const char* text : {"169.254.0.0/16", "fe80::/10", "127.0.0.0/8", "::1", "0.0.0.0/8", "::"})
    refused_.push_back(rule(text));
  for (const auto& a : own_addresses)
    refused_.push_back(exactly(a));
}

bool DestinationPolicy::allowed(const boost::asio::ip::address& address, std::uint16_t port) const {
  const auto check = [&](std::span<const std::uint8_t> bytes) {
    if (any_match(deny_, bytes, port))
      return false;
    return any_match(allow_, bytes, port) || !any_match(refused_, bytes, port);
  };
  if (address.is_v4()) {
    const auto b = address.to_v4().to_bytes();
    return check(b);
  }
  const auto b = address.to_v6().to_bytes();
  return check(b);
}

}  // namespace ipm::proxy
