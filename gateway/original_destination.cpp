#include "gateway/original_destination.hpp"

#include <arpa/inet.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6/ip6_tables.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>

namespace ipm::gateway {

namespace {

bool v4_mapped(const sockaddr_in6& a) {
  return IN6_IS_ADDR_V4MAPPED(&a.sin6_addr);
}

std::optional<Destination> own_address(int fd, sockaddr_storage& local, std::error_code& ec) {
  socklen_t length = sizeof local;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &length) != 0) {
    ec.assign(errno, std::generic_category());
    return std::nullopt;
  }
  char text[INET6_ADDRSTRLEN] = {};
  Destination d;
  if (local.ss_family == AF_INET) {
    const auto& in = reinterpret_cast<const sockaddr_in&>(local);
    ::inet_ntop(AF_INET, &in.sin_addr, text, sizeof text);
    d.port = ntohs(in.sin_port);
  } else if (local.ss_family == AF_INET6) {
    const auto& in6 = reinterpret_cast<const sockaddr_in6&>(local);
    if (v4_mapped(in6)) {
      ::inet_ntop(AF_INET, &in6.sin6_addr.s6_addr[12], text, sizeof text);
    } else {
      ::inet_ntop(AF_INET6, &in6.sin6_addr, text, sizeof text);
      d.v6 = true;
    }
    d.port = ntohs(in6.sin6_port);
  } else {
    ec = std::make_error_code(std::errc::address_family_not_supported);
    return std::nullopt;
  }
  d.address = text;
  ec.clear();
  return d;
}

}  // namespace

std::optional<Destination> local_destination(int fd, std::error_code& ec) {
  sockaddr_storage local{};
  return own_address(fd, local, ec);
}

std::optional<Destination> original_destination(int fd, std::error_code& ec) {
  sockaddr_storage local{};
  const auto own = own_address(fd, local, ec);
  if (!own)
    return std::nullopt;
  char text[INET6_ADDRSTRLEN] = {};
  Destination d;
  if (!own->v6) {
    // conntrack keeps an IPv4 connection's record under IPv4, whichever socket family
    // accepted it (a dual-stack [::] listener sees a v4-mapped peer).
    sockaddr_in original{};
    socklen_t size = sizeof original;
    if (::getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, &original, &size) != 0) {
      ec.assign(errno, std::generic_category());
      return std::nullopt;
    }
    ::inet_ntop(AF_INET, &original.sin_addr, text, sizeof text);
    d.port = ntohs(original.sin_port);
  } else {
    sockaddr_in6 original{};
    socklen_t size = sizeof original;
    if (::getsockopt(fd, SOL_IPV6, IP6T_SO_ORIGINAL_DST, &original, &size) != 0) {
      ec.assign(errno, std::generic_category());
      return std::nullopt;
    }
    ::inet_ntop(AF_INET6, &original.sin6_addr, text, sizeof text);
    d.port = ntohs(original.sin6_port);
    d.v6 = true;
  }
  d.address = text;
  ec.clear();
  return d;
}

bool is_own_listener(const Destination& d, const Destination& local) {
  if (d.address == "0.0.0.0" || d.address == "::")
    return true;
  // Not redirected: conntrack's original destination is the connection's own.
  return d.address == local.address && d.port == local.port;
}

}  // namespace ipm::gateway
