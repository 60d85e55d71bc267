#include "app/netlink_messages.hpp"

#include <arpa/inet.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>

#include <cstring>
#include <optional>

namespace ipm::app {
namespace {

// The kernel's structures are read by memcpy from the byte stream: a datagram carries no
// alignment promise we could lean on, and every length in it is checked first.
template <class T>
std::optional<T> read_at(std::span<const std::byte> bytes, std::size_t at) {
  if (at > bytes.size() || bytes.size() - at < sizeof(T))
    return std::nullopt;
  T out;
  std::memcpy(&out, bytes.data() + at, sizeof(T));
  return out;
}

constexpr std::size_t align4(std::size_t n) {
  return (n + 3) & ~std::size_t{3};
}

struct Attribute {
  std::uint16_t type = 0;
  std::span<const std::byte> value;
};

// The attributes after a message's fixed header; nullopt when one runs past the message.
std::optional<std::vector<Attribute>> attributes(std::span<const std::byte> body) {
  std::vector<Attribute> out;
  std::size_t at = 0;
  while (body.size() - at >= sizeof(rtattr)) {
    const auto a = read_at<rtattr>(body, at);
    if (a->rta_len < sizeof(rtattr) || a->rta_len > body.size() - at)
      return std::nullopt;
    out.push_back({a->rta_type, body.subspan(at + sizeof(rtattr), a->rta_len - sizeof(rtattr))});
    at += align4(a->rta_len);
    if (at > body.size())
      break;  // the last attribute's padding may be left out
  }
  return out;
}

std::optional<NetlinkChange> address_message(std::uint16_t type, std::span<const std::byte> m) {
  const auto header = read_at<ifaddrmsg>(m, 0);
  if (!header)
    return std::nullopt;
  const auto attrs = attributes(m.subspan(std::min(m.size(), align4(sizeof(ifaddrmsg)))));
  if (!attrs)
    return std::nullopt;
  const std::size_t size = header->ifa_family == AF_INET    ? 4
                           : header->ifa_family == AF_INET6 ? 16
                                                            : 0;
  std::span<const std::byte> local;
  std::span<const std::byte> address;
  for (const Attribute& a : *attrs) {
    if (a.type == IFA_LOCAL)
      local = a.value;
    else if (a.type == IFA_ADDRESS)
      address = a.value;
  }
  const std::span<const std::byte> chosen = !local.empty() ? local : address;
  if (size == 0 || chosen.size() != size)
    return std::nullopt;
  char text[INET6_ADDRSTRLEN] = {};
  if (::inet_ntop(header->ifa_family, chosen.data(), text, sizeof text) == nullptr)
    return std::nullopt;
  return NetlinkChange{.kind = type == RTM_NEWADDR ? NetlinkChange::Kind::address_added
                                                   : NetlinkChange::Kind::address_removed,
                       .ifindex = header->ifa_index,
                       .interface = {},
                       .address = text};
}

std::optional<NetlinkChange> link_message(std::uint16_t type, std::span<const std::byte> m) {
  const auto header = read_at<ifinfomsg>(m, 0);
  if (!header || header->ifi_index <= 0)
    return std::nullopt;
  const auto attrs = attributes(m.subspan(std::min(m.size(), align4(sizeof(ifinfomsg)))));
  if (!attrs)
    return std::nullopt;
  std::string name;
  for (const Attribute& a : *attrs) {
    if (a.type == IFLA_IFNAME) {
      const char* p = reinterpret_cast<const char*>(a.value.data());
      name.assign(p, strnlen(p, a.value.size()));
    }
  }
  NetlinkChange c{.kind = NetlinkChange::Kind::link_removed,
                  .ifindex = static_cast<std::uint32_t>(header->ifi_index),
                  .interface = std::move(name),
                  .address = {}};
  if (type == RTM_NEWLINK) {
    const bool up = (header->ifi_flags & IFF_UP) != 0 && (header->ifi_flags & IFF_RUNNING) != 0;
    c.kind = up ? NetlinkChange::Kind::link_up : NetlinkChange::Kind::link_down;
  }
  return c;
}

}  // namespace

std::vector<NetlinkChange> decode_netlink(std::span<const std::byte> datagram,
                                          std::size_t* malformed) {
  std::vector<NetlinkChange> out;
  std::size_t bad = 0;
  std::size_t at = 0;
  while (datagram.size() - at >= sizeof(nlmsghdr)) {
    const auto h = read_at<nlmsghdr>(datagram, at);
    if (h->nlmsg_len < sizeof(nlmsghdr) || h->nlmsg_len > datagram.size() - at) {
      ++bad;  // its length cannot be trusted, nor anything after it
      break;
    }
    const auto body = datagram.subspan(at + sizeof(nlmsghdr), h->nlmsg_len - sizeof(nlmsghdr));
    std::optional<NetlinkChange> change;
    bool known = true;
    switch (h->nlmsg_type) {
      case RTM_NEWADDR:
      case RTM_DELADDR:
        change = address_message(h->nlmsg_type, body);
        break;
      case RTM_NEWLINK:
      case RTM_DELLINK:
        change = link_message(h->nlmsg_type, body);
        break;
      default:
        known = false;
    }
    if (change)
      out.push_back(std::move(*change));
    else if (known)
      ++bad;
    at += align4(h->nlmsg_len);
    if (at > datagram.size())
      break;
  }
  if (malformed != nullptr)
    *malformed += bad;
  return out;
}

}  // namespace ipm::app
