#pragma once

#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include "probe/event_feed.hpp"
#include "probe/server_options.hpp"

namespace ipm::probe {

/// Sends `feed` to the client as text/event-stream, the response header having been written:
/// first what EventFeed::start() gives for `last_event_id`, then every event as the journal
/// gets it. `chunked`: HTTP/1.1 chunked framing (else raw bytes, ended by the close).
/// Returns when the client goes (a write fails or times out after options.write_timeout),
/// falls too far behind (EventJournal::read drops it: never buffered without limit) or the
/// feed stops. Runs on the stream's strand; touches no socket but `stream`.
boost::asio::awaitable<void> stream_events(boost::beast::tcp_stream& stream, EventFeed& feed,
                                           std::string last_event_id, bool chunked,
                                           const ServerOptions& options);

}  // namespace ipm::probe
