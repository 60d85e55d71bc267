#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace ipm::test {

/// One HTTP/1.0 exchange. status is 0 when no response came (error says why: refused,
/// timeout, reset, unparsable, or kClosedWithoutAnswer for a clean FIN before any byte).
struct HttpResponse {
  int status = 0;
  std::string headers;  ///< the raw header block, status line included
  std::string body;
  std::string error;
};

/// HttpResponse::error of a connection the server closed (FIN) without sending a byte.
inline constexpr const char* kClosedWithoutAnswer = "closed without an answer";

using Headers = std::vector<std::pair<std::string, std::string>>;

/// GET http://host:port/path over a plain blocking socket with poll() timeouts. Thread-safe
/// (no shared state). `source` binds the client socket to that local address first ("" = any).
HttpResponse http_get(const std::string& host, std::uint16_t port, const std::string& path,
                      const Headers& headers = {},
                      std::chrono::milliseconds timeout = std::chrono::seconds(5),
                      const std::string& source = "");

/// The same exchange with another method (no body: POST sends Content-Length 0 only when
/// the caller adds it to `headers`).
HttpResponse http_request(const std::string& method, const std::string& host, std::uint16_t port,
                          const std::string& path, const Headers& headers = {},
                          std::chrono::milliseconds timeout = std::chrono::seconds(5),
                          const std::string& source = "");

}  // namespace ipm::test
