#include "proxy/protocol/socks5_server.hpp"

#include <algorithm>

#include "proxy/protocol/wire.hpp"

namespace ipm::protocol {

Socks5Server::Socks5Server(CredentialCheck check) : check_(std::move(check)) {}

Step Socks5Server::put(Bytes in) {
  switch (phase_) {
    case Phase::greeting:
      return greeting(in);
    case Phase::auth:
      return auth(in);
    case Phase::request:
      return request(in);
    case Phase::finished:
      break;
  }
  return {0, Status::done};
}

Step Socks5Server::fail(Failure why, std::size_t consumed, std::vector<std::byte> reply) {
  failure_ = why;
  output_ = std::move(reply);
  phase_ = Phase::finished;
  return {consumed, Status::error};
}

Step Socks5Server::greeting(Bytes in) {
  // VER NMETHODS METHODS...
  if (in.empty())
    return {0, Status::need_more};
  if (u8(in[0]) != 5)
    return fail(Failure::bad_version, 0, {});  // not SOCKS5: no reply of ours would be read
  if (in.size() < 2)
    return {0, Status::need_more};
  const std::size_t n = u8(in[1]);
  if (in.size() < 2 + n)
    return {0, Status::need_more};
  const auto methods = in.subspan(2, n);
  const auto offered = [&](std::uint8_t m) {
    return std::any_of(methods.begin(), methods.end(), [m](std::byte b) { return u8(b) == m; });
  };
  std::uint8_t method = socks5::kNoAcceptable;
  if (offered(socks5::kUserPassword))
    method = socks5::kUserPassword;  // also without a check: the username can steer selection
  if (!check_ && offered(socks5::kNoAuth))
    method = socks5::kNoAuth;
  if (method == socks5::kNoAcceptable)
    return fail(Failure::no_method, 2 + n, bytes_of({5, socks5::kNoAcceptable}));
  output_ = bytes_of({5, method});
  phase_ = method == socks5::kUserPassword ? Phase::auth : Phase::request;
  return {2 + n, Status::reply};
}

Step Socks5Server::auth(Bytes in) {
  // RFC 1929: VER(1) ULEN UNAME PLEN PASSWD; answered VER STATUS.
  if (in.empty())
    return {0, Status::need_more};
  if (u8(in[0]) != 1)
    return fail(Failure::bad_version, 0, bytes_of({1, 1}));
  if (in.size() < 2)
    return {0, Status::need_more};
  const std::size_t ulen = u8(in[1]);
  if (in.size() < 3 + ulen)
    return {0, Status::need_more};
  const std::size_t plen = u8(in[2 + ulen]);
  const std::size_t total = 3 + ulen + plen;
  if (in.size() < total)
    return {0, Status::need_more};
  credentials_.user = text_of(in.subspan(2, ulen));
  credentials_.password = text_of(in.subspan(3 + ulen, plen));
  credentials_.given = true;
  if (check_ && !check_(credentials_.user, credentials_.password))
    return fail(Failure::auth_failed, total, bytes_of({1, 1}));
  output_ = bytes_of({1, 0});
  phase_ = Phase::request;
  return {total, Status::reply};
}

Step Socks5Server::request(Bytes in) {
  // VER CMD RSV ATYP DST.ADDR DST.PORT
  if (in.size() < 4)
    return {0, Status::need_more};
  if (u8(in[0]) != 5)
    return fail(Failure::bad_version, 0, socks5_reply(socks5::kGeneralFailure));
  std::size_t address_size = 0;
  switch (u8(in[3])) {
    case 1:
      address_size = 4;
      break;
    case 4:
      address_size = 16;
      break;
    case 3:
      if (in.size() < 5)
        return {0, Status::need_more};
      address_size = 1 + u8(in[4]);
      break;
    default:
      return fail(Failure::unsupported_address, 0, socks5_reply(socks5::kAddressTypeNotSupported));
  }
  // The command is judged once the address type is known to be valid: RFC 1928 answers an
  // unknown command with 0x07 whatever follows it.
  if (u8(in[1]) != 1)
    return fail(Failure::unsupported_command, 0, socks5_reply(socks5::kCommandNotSupported));
  const std::size_t total = 4 + address_size + 2;
  if (in.size() < total)
    return {0, Status::need_more};
  const std::uint16_t port = be16(in.subspan(4 + address_size, 2));
  switch (u8(in[3])) {
    case 1:
      destination_ = Destination::ipv4({u8(in[4]), u8(in[5]), u8(in[6]), u8(in[7])}, port);
      break;
    case 4: {
      std::array<std::uint8_t, 16> ip{};
      for (std::size_t i = 0; i < 16; ++i)
        ip[i] = u8(in[4 + i]);
      destination_ = Destination::ipv6(ip, port);
      break;
    }
    default: {
      auto d = Destination::from_host(text_of(in.subspan(5, address_size - 1)), port);
      if (!d)
        return fail(Failure::malformed, total, socks5_reply(socks5::kGeneralFailure));
      destination_ = std::move(*d);
      break;
    }
  }
  if (port == 0)
    return fail(Failure::malformed, total, socks5_reply(socks5::kGeneralFailure));
  phase_ = Phase::finished;
  return {total, Status::done};
}

std::vector<std::byte> socks5_reply(std::uint8_t code, const Destination* bound) {
  std::vector<std::byte> out = bytes_of({5, code, 0});
  if (bound != nullptr && bound->type == AddressType::ipv6) {
    out.push_back(std::byte{4});
    for (std::size_t i = 0; i < 16; ++i)
      out.push_back(std::byte{bound->ip[i]});
  } else {
    out.push_back(std::byte{1});
    const bool v4 = bound != nullptr && bound->type == AddressType::ipv4;
    for (std::size_t i = 0; i < 4; ++i)
      out.push_back(std::byte{v4 ? bound->ip[i] : std::uint8_t{0}});
  }
  const std::uint16_t port = bound != nullptr && bound->is_ip() ? bound->port : 0;
  out.push_back(std::byte(port >> 8));
  out.push_back(std::byte(port & 0xFF));
  return out;
}

}  // namespace ipm::protocol
