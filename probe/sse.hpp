#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ipm::probe {

// The text/event-stream format (HTML Living Standard, "Server-sent events"). Pure functions.

/// Appends one event: `id: <id>`, `event: <name>` (omitted when empty), one `data:` line per
/// line of `data` (CR, LF and CRLF all end a line, as the parser on the other side reads
/// them), then the blank line that dispatches it. `id` and `name` must be single-line.
void append_sse_event(std::string& out, std::string_view id, std::string_view name,
                      std::string_view data);

/// Appends `retry: <ms>`: how long a browser's EventSource waits before reconnecting.
void append_sse_retry(std::string& out, std::uint32_t milliseconds);

/// An event id of ours: "<epoch>-<seq>". The epoch tells this process's ids from those of an
/// earlier run (a client that reconnects after a restart must not resume by a stale number).
struct EventId {
  std::string_view epoch;
  std::uint64_t seq = 0;
};

/// "<epoch>-<seq>".
std::string format_event_id(std::string_view epoch, std::uint64_t seq);

/// Splits a Last-Event-ID value; nullopt when it is not "<epoch>-<decimal seq>".
std::optional<EventId> parse_event_id(std::string_view text);

}  // namespace ipm::probe
