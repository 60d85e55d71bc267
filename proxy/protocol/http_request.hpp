#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "proxy/protocol/credentials.hpp"
#include "proxy/protocol/destination.hpp"
#include "proxy/protocol/step.hpp"

namespace ipm::protocol {

/// The head of a client's request to an HTTP proxy: `CONNECT host:port HTTP/1.x` (a tunnel),
/// or an absolute-URI request for plain HTTP (`GET http://host[:port]/path HTTP/1.1`).
/// Proxy-Authorization Basic credentials are checked when a CredentialCheck is given (407
/// otherwise). Incremental: the head is buffered until its blank line, up to `max_head` bytes
/// (431 beyond). On `error`, output() is the HTTP error response and status() its code.
///
/// An absolute-URI request is rewritten for the origin (forward_head()): origin-form target,
/// the hop-by-hop and proxy headers dropped, `Connection: close` added, so the client's next
/// request opens a new proxy connection that is judged (and routed) on its own.
class HttpRequest {
 public:
  static constexpr std::size_t kDefaultMaxHead = 16 * 1024;

  explicit HttpRequest(CredentialCheck check = {}, std::size_t max_head = kDefaultMaxHead);

  Step put(Bytes in);

  const std::vector<std::byte>& output() const { return output_; }
  Failure failure() const { return failure_; }
  int status() const { return status_; }

  /// After `done`.
  bool is_connect() const { return connect_; }
  const std::string& method() const { return method_; }
  const Destination& destination() const { return destination_; }
  const Credentials& credentials() const { return credentials_; }
  /// The head to send to the origin for an absolute-URI request (empty for CONNECT).
  const std::string& forward_head() const { return forward_; }

 private:
  Step fail(Failure why, int status, std::size_t consumed);
  Step parse_head(std::size_t consumed);
  bool parse_target(std::string_view target);

  CredentialCheck check_;
  std::size_t max_head_;
  std::string head_;
  bool finished_ = false;
  std::vector<std::byte> output_;
  Failure failure_ = Failure::none;
  int status_ = 0;
  bool connect_ = false;
  std::string method_;
  std::string origin_target_;  ///< path and query, for the forwarded request
  Destination destination_;
  Credentials credentials_;
  std::string forward_;
};

}  // namespace ipm::protocol
