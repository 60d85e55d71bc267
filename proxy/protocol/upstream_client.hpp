#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "proxy/protocol/credentials.hpp"
#include "proxy/protocol/destination.hpp"
#include "proxy/protocol/step.hpp"

namespace ipm::protocol {

/// The client side of the handshake with an upstream proxy, common to the three protocols:
/// send output() right after construction, then feed the upstream's answer to put(); each
/// `reply` step leaves the next message in output(). On `done`, bound() is the address the
/// upstream reports (when its protocol has one) and bytes after `consumed` belong to the
/// tunnel. On `error`, reply_code() is the upstream's own code (SOCKS5 REP, SOCKS4 CD, HTTP
/// status) when it sent one, -1 otherwise; failure() is `refused` for such a refusal,
/// `auth_failed` when the upstream turned our credentials (or lack of them) down, and
/// `malformed`/`bad_version`/`too_large` when it does not speak the protocol.
class UpstreamClient {
 public:
  virtual ~UpstreamClient() = default;
  virtual Step put(Bytes in) = 0;

  const std::vector<std::byte>& output() const { return output_; }
  Failure failure() const { return failure_; }
  int reply_code() const { return reply_code_; }
  const Destination& bound() const { return bound_; }

 protected:
  Step fail(Failure why, std::size_t consumed, int code = -1) {
    failure_ = why;
    reply_code_ = code;
    output_.clear();
    return {consumed, Status::error};
  }

  std::vector<std::byte> output_;
  Failure failure_ = Failure::none;
  int reply_code_ = -1;
  Destination bound_;
};

/// SOCKS5 CONNECT (RFC 1928), with RFC 1929 username/password when `credentials` is given.
/// A domain is sent as a domain: the upstream resolves it.
class Socks5Client final : public UpstreamClient {
 public:
  Socks5Client(const Destination& destination, std::optional<Credentials> credentials);
  Step put(Bytes in) override;

 private:
  enum class Phase : std::uint8_t { method, auth, reply, finished };
  std::vector<std::byte> request_;
  std::optional<Credentials> credentials_;
  Phase phase_ = Phase::method;
};

/// SOCKS4 CONNECT with `user` as USERID; a domain goes as SOCKS4a (the upstream resolves it). An
/// IPv6 destination cannot be asked for (the caller offers such an upstream IPv4 only).
class Socks4Client final : public UpstreamClient {
 public:
  Socks4Client(const Destination& destination, std::string_view user);
  Step put(Bytes in) override;

 private:
  bool finished_ = false;
};

/// HTTP CONNECT, with `Proxy-Authorization: Basic` when `credentials` is given. The response
/// head is read up to 16 KB.
class HttpConnectClient final : public UpstreamClient {
 public:
  HttpConnectClient(const Destination& destination, std::optional<Credentials> credentials);
  Step put(Bytes in) override;

 private:
  std::string head_;
  bool finished_ = false;
};

}  // namespace ipm::protocol
