#include "proxy/protocol/socks4_server.hpp"

#include <algorithm>

#include "proxy/protocol/wire.hpp"

namespace ipm::protocol {
namespace {

constexpr std::size_t kNotFound = static_cast<std::size_t>(-1);

// Position of the NUL ending a field that starts at `from`, or npos.
std::size_t find_nul(Bytes in, std::size_t from) {
  const auto it = std::find(in.begin() + static_cast<std::ptrdiff_t>(from), in.end(), std::byte{0});
  return it == in.end() ? kNotFound : static_cast<std::size_t>(it - in.begin());
}

}  // namespace

Step Socks4Server::fail(Failure why, std::size_t consumed) {
  failure_ = why;
  output_ = socks4_reply(socks4::kRejected);
  finished_ = true;
  return {consumed, Status::error};
}

Step Socks4Server::put(Bytes in) {
  // VN(4) CD DSTPORT(2) DSTIP(4) USERID NUL [DOMAIN NUL]
  if (finished_)
    return {0, Status::done};
  if (in.empty())
    return {0, Status::need_more};
  if (u8(in[0]) != 4) {
    failure_ = Failure::bad_version;
    finished_ = true;
    return {0, Status::error};  // not SOCKS4: a SOCKS4 reply would not be understood
  }
  if (in.size() >= 2 && u8(in[1]) != 1)
    return fail(Failure::unsupported_command, 0);
  if (in.size() < 9)
    return {0, Status::need_more};
  const std::size_t user_end = find_nul(in, 8);
  if (user_end == kNotFound) {
    if (in.size() - 8 > socks4::kMaxField)
      return fail(Failure::too_large, 8 + socks4::kMaxField + 1);
    return {0, Status::need_more};
  }
  if (user_end - 8 > socks4::kMaxField)
    return fail(Failure::too_large, 8 + socks4::kMaxField + 1);
  credentials_.user = text_of(in.subspan(8, user_end - 8));
  const std::uint16_t port = be16(in.subspan(2, 2));
  const std::array<std::uint8_t, 4> ip{u8(in[4]), u8(in[5]), u8(in[6]), u8(in[7])};
  std::size_t total = user_end + 1;
  const bool socks4a = ip[0] == 0 && ip[1] == 0 && ip[2] == 0 && ip[3] != 0;
  if (socks4a) {
    const std::size_t domain_end = find_nul(in, total);
    if (domain_end == kNotFound) {
      if (in.size() - total > socks4::kMaxField)
        return fail(Failure::too_large, total + socks4::kMaxField + 1);
      return {0, Status::need_more};
    }
    if (domain_end - total > socks4::kMaxField)
      return fail(Failure::too_large, total + socks4::kMaxField + 1);
    auto d = Destination::from_host(text_of(in.subspan(total, domain_end - total)), port);
    total = domain_end + 1;
    if (!d)
      return fail(Failure::malformed, total);
    destination_ = std::move(*d);
  } else {
    destination_ = Destination::ipv4(ip, port);
  }
  if (auth_required_)
    return fail(Failure::auth_failed, total);
  if (port == 0 || (!socks4a && ip == std::array<std::uint8_t, 4>{}))
    return fail(Failure::malformed, total);
  finished_ = true;
  return {total, Status::done};
}

std::vector<std::byte> socks4_reply(std::uint8_t code, const Destination* bound) {
  std::vector<std::byte> out = bytes_of({0, code});
  const bool v4 = bound != nullptr && bound->type == AddressType::ipv4;
  append_be16(out, v4 ? bound->port : 0);
  for (std::size_t i = 0; i < 4; ++i)
    out.push_back(std::byte{v4 ? bound->ip[i] : std::uint8_t{0}});
  return out;
}

}  // namespace ipm::protocol
