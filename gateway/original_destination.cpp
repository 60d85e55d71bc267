#include "gateway/original_destination.hpp"

#include <arpa/inet.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6/ip6_tables.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>

namespace ipm::gateway {

std::optional<Destination> original_destination(int fd, std::error_code& ec) {
  sockaddr_storage local{};
  socklen_t length = sizeof local;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &length) != 0) {
    ec.assign(errno, std::generic_category());
    return std::nullopt;
  }
  char text[INET6_ADDRSTRLEN] = {};
  Destination d;
  if (local.ss_family == AF_INET) {
    sockaddr_in original{};
    socklen_t size = sizeof original;
    if (::getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, &original, &size) != 0) {
      ec.assign(errno, std::generic_category());
      return std::nullopt;
    }
    ::inet_ntop(AF_INET, &original.sin_addr, text, sizeof text);
    d.port = ntohs(original.sin_port);
  } else if (local.ss_family == AF_INET6) {
    sockaddr_in6 original{};
    socklen_t size = sizeof original;
    if (::getsockopt(fd, SOL_IPV6, IP6T_SO_ORIGINAL_DST, &original, &size) != 0) {
      ec.assign(errno, std::generic_category());
      return std::nullopt;
    }
    ::inet_ntop(AF_INET6, &original.sin6_addr, text, sizeof text);
    d.port = ntohs(original.sin6_port);
    d.v6 = true;
  } else {
    ec = std::make_error_code(std::errc::address_family_not_supported);
    return std::nullopt;
  }
  d.address = text;
  ec.clear();
  return d;
}

bool is_own_listener(const Destination& d, const std::string& listen_address,
                     std::uint16_t listen_port) {
  if (d.port != listen_port)
    return false;
  // A wildcard listener is every local address; the redirect target is one of them.
  return listen_address == "0.0.0.0" || listen_address == "::" || d.address == listen_address;
}

}  // namespace ipm::gateway
