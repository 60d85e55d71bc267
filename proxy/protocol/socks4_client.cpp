#include "proxy/protocol/socks4_server.hpp"
#include "proxy/protocol/upstream_client.hpp"
#include "proxy/protocol/wire.hpp"

namespace ipm::protocol {

Socks4Client::Socks4Client(const Destination& destination, std::string_view user) {
  output_ = bytes_of({4, 1});
  append_be16(output_, destination.port);
  const bool domain = destination.type != AddressType::ipv4;
  // SOCKS4a: the address 0.0.0.1 says "the domain follows the USERID".
  for (std::size_t i = 0; i < 4; ++i)
    output_.push_back(std::byte{domain ? std::uint8_t(i == 3 ? 1 : 0) : destination.ip[i]});
  append(output_, user.substr(0, socks4::kMaxField));
  output_.push_back(std::byte{0});
  if (domain) {
    append(output_, destination.host);
    output_.push_back(std::byte{0});
  }
}

Step Socks4Client::put(Bytes in) {
  if (finished_)
    return {0, Status::done};
  if (in.size() < 8)
    return {0, Status::need_more};
  finished_ = true;
  // VN is 0 in the reply; some servers echo 4.
  if (u8(in[0]) != 0 && u8(in[0]) != 4)
    return fail(Failure::bad_version, 8);
  const std::uint8_t code = u8(in[1]);
  if (code != socks4::kGranted)
    return fail(code == socks4::kNoIdentd || code == socks4::kIdentdMismatch ? Failure::auth_failed
                                                                             : Failure::refused,
                8, code);
  bound_ = Destination::ipv4({u8(in[4]), u8(in[5]), u8(in[6]), u8(in[7])}, be16(in.subspan(2, 2)));
  output_.clear();
  return {8, Status::done};
}

}  // namespace ipm::protocol
