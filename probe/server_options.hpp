#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "probe/event_journal.hpp"

namespace ipm::probe {

/// Timing and bounds of the page's event stream (GET /api/events).
struct FeedOptions {
  /// How often the engine is looked at for new decisions and state changes.
  std::chrono::milliseconds poll{250};
  /// How often pool counters and per-egress traffic numbers are sent.
  std::chrono::milliseconds tick{1000};
  /// The journal of recent events (what a reconnecting client can resume from) and how far
  /// behind it a client may fall before it is dropped.
  EventJournal::Limits journal;
  /// Sent as `retry:`: how long a browser waits before reconnecting.
  std::uint32_t retry_ms = 2000;
};

/// Limits and addresses of the probe server.
struct ServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;  ///< 0: any free port (tests read it back)
  std::size_t max_connections = 256;
  /// Event streams (open pages) are counted apart from max_connections, under this cap, so
  /// that open pages never take the slots of /metrics and /ping scrapes.
  std::size_t max_event_streams = 32;
  std::uint32_t header_limit = 8 * 1024;  ///< bytes of request line + headers; more: 431
  std::uint64_t body_limit = 64 * 1024;   ///< bytes of request body; more: 413
  /// From the first byte of a request to its end; a client that stalls mid-request is
  /// closed after this.
  std::chrono::milliseconds read_timeout{std::chrono::seconds(10)};
  /// How long a kept-alive connection may wait for its next request.
  std::chrono::milliseconds idle_timeout{std::chrono::seconds(60)};
  /// Per write (one response, or one chunk of a streamed one) to a slow reader.
  std::chrono::milliseconds write_timeout{std::chrono::seconds(30)};
  FeedOptions feed;
  /// Where errors go (a failed accept, an exception escaping a session). Default: stderr.
  std::function<void(std::string_view)> log;
};

/// The options the config gives: probe_host, probe_port, probe_max_connections,
/// probe_max_event_streams; the
/// timeouts and size caps keep their defaults.
ServerOptions options_from(const config::Config& config);

}  // namespace ipm::probe
