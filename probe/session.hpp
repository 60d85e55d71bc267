#pragma once

#include <functional>
#include <memory>

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include "probe/context.hpp"
#include "probe/event_feed.hpp"
#include "probe/server_options.hpp"

namespace ipm::probe {

/// What a session needs from its server to turn into an event stream.
struct EventStreamAccess {
  EventFeed* feed = nullptr;
  /// Moves the connection from the request cap to the event-stream cap; false when that cap
  /// is reached (the client is answered 503).
  std::function<bool()> begin;
};

/// Serves one connection until the client closes it, asks to close, times out or sends
/// something unparseable (answered 400/413/431 and closed). Requests are answered in order,
/// so pipelined requests work. Runs on the stream's executor (a strand); returns normally
/// on every network error. `stream` is shared so the server can close it at shutdown.
/// GET /api/events turns the connection into an event stream (stream_events) until it ends.
boost::asio::awaitable<void> serve_connection(std::shared_ptr<boost::beast::tcp_stream> stream,
                                              Context& context, const ServerOptions& options,
                                              EventStreamAccess events);

/// Writes a 503 "too many connections" and closes: for connections over the cap.
boost::asio::awaitable<void> refuse_connection(boost::beast::tcp_stream stream);

}  // namespace ipm::probe
