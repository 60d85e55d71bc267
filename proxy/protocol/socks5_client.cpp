#include "proxy/protocol/socks5_server.hpp"
#include "proxy/protocol/upstream_client.hpp"
#include "proxy/protocol/wire.hpp"

namespace ipm::protocol {

Socks5Client::Socks5Client(const Destination& destination, std::optional<Credentials> credentials)
    : credentials_(std::move(credentials)) {
  output_ = credentials_ ? bytes_of({5, 2, socks5::kNoAuth, socks5::kUserPassword})
                         : bytes_of({5, 1, socks5::kNoAuth});
  request_ = bytes_of({5, 1, 0});
  switch (destination.type) {
    case AddressType::ipv4:
      request_.push_back(std::byte{1});
      for (std::size_t i = 0; i < 4; ++i)
        request_.push_back(std::byte{destination.ip[i]});
      break;
    case AddressType::ipv6:
      request_.push_back(std::byte{4});
      for (std::size_t i = 0; i < 16; ++i)
        request_.push_back(std::byte{destination.ip[i]});
      break;
    case AddressType::domain:
      request_.push_back(std::byte{3});
      request_.push_back(static_cast<std::byte>(destination.host.size()));
      append(request_, destination.host);
      break;
  }
  append_be16(request_, destination.port);
}

Step Socks5Client::put(Bytes in) {
  switch (phase_) {
    case Phase::method: {
      if (in.size() < 2)
        return {0, Status::need_more};
      if (u8(in[0]) != 5)
        return fail(Failure::bad_version, 2);
      const std::uint8_t method = u8(in[1]);
      if (method == socks5::kNoAuth) {
        output_ = request_;
        phase_ = Phase::reply;
        return {2, Status::reply};
      }
      if (method == socks5::kUserPassword && credentials_) {
        output_ = bytes_of({1});
        output_.push_back(
            static_cast<std::byte>(std::min<std::size_t>(credentials_->user.size(), 255)));
        append(output_, std::string_view(credentials_->user).substr(0, 255));
        output_.push_back(
            static_cast<std::byte>(std::min<std::size_t>(credentials_->password.size(), 255)));
        append(output_, std::string_view(credentials_->password).substr(0, 255));
        phase_ = Phase::auth;
        return {2, Status::reply};
      }
      // 0xFF, or a method we did not offer: the upstream wants credentials we do not have.
      return fail(Failure::auth_failed, 2, method);
    }
    case Phase::auth:
      if (in.size() < 2)
        return {0, Status::need_more};
      if (u8(in[0]) != 1)
        return fail(Failure::bad_version, 2);
      if (u8(in[1]) != 0)
        return fail(Failure::auth_failed, 2, u8(in[1]));
      output_ = request_;
      phase_ = Phase::reply;
      return {2, Status::reply};
    case Phase::reply: {
      if (in.size() < 2)
        return {0, Status::need_more};
      if (u8(in[0]) != 5)
        return fail(Failure::bad_version, 2);
      if (u8(in[1]) != socks5::kSucceeded)
        return fail(Failure::refused, 2, u8(in[1]));
      if (in.size() < 5)
        return {0, Status::need_more};
      std::size_t address_size = 0;
      switch (u8(in[3])) {
        case 1:
          address_size = 4;
          break;
        case 4:
          address_size = 16;
          break;
        case 3:
          address_size = 1 + u8(in[4]);
          break;
        default:
          return fail(Failure::malformed, 4);
      }
      const std::size_t total = 4 + address_size + 2;
      if (in.size() < total)
        return {0, Status::need_more};
      const std::uint16_t port = be16(in.subspan(4 + address_size, 2));
      if (u8(in[3]) == 1) {
        bound_ = Destination::ipv4({u8(in[4]), u8(in[5]), u8(in[6]), u8(in[7])}, port);
      } else if (u8(in[3]) == 4) {
        std::array<std::uint8_t, 16> ip{};
        for (std::size_t i = 0; i < 16; ++i)
          ip[i] = u8(in[4 + i]);
        bound_ = Destination::ipv6(ip, port);
      } else {
        bound_ = Destination{};
        bound_.host = text_of(in.subspan(5, address_size - 1));
        bound_.port = port;
      }
      output_.clear();
      phase_ = Phase::finished;
      return {total, Status::done};
    }
    case Phase::finished:
      break;
  }
  return {0, Status::done};
}

}  // namespace ipm::protocol
