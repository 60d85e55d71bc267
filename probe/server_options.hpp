#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "config/config.hpp"

namespace ipm::probe {

/// Limits and addresses of the probe server.
struct ServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;  ///< 0: any free port (tests read it back)
  std::size_t max_connections = 256;
  std::uint32_t header_limit = 8 * 1024;  ///< bytes of request line + headers; more: 431
  std::uint64_t body_limit = 64 * 1024;   ///< bytes of request body; more: 413
  /// From the first byte of a request to its end; a client that stalls mid-request is
  /// closed after this.
  std::chrono::milliseconds read_timeout{std::chrono::seconds(10)};
  /// How long a kept-alive connection may wait for its next request.
  std::chrono::milliseconds idle_timeout{std::chrono::seconds(60)};
  /// Per write (one response, or one chunk of a streamed one) to a slow reader.
  std::chrono::milliseconds write_timeout{std::chrono::seconds(30)};
  /// Where errors go (a failed accept, an exception escaping a session). Default: stderr.
  std::function<void(std::string_view)> log;
};

/// The options the config gives: probe_host, probe_port, probe_max_connections; the
/// timeouts and size caps keep their defaults.
ServerOptions options_from(const config::Config& config);

}  // namespace ipm::probe
