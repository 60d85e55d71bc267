#pragma once

#include <memory>

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include "probe/context.hpp"
#include "probe/server_options.hpp"

namespace ipm::probe {

/// Serves one connection until the client closes it, asks to close, times out or sends
/// something unparseable (answered 400/413/431 and closed). Requests are answered in order,
/// so pipelined requests work. Runs on the stream's executor (a strand); returns normally
/// on every network error. `stream` is shared so the server can close it at shutdown.
boost::asio::awaitable<void> serve_connection(std::shared_ptr<boost::beast::tcp_stream> stream,
                                              Context& context, const ServerOptions& options);

/// Writes a 503 "too many connections" and closes: for connections over the cap.
boost::asio::awaitable<void> refuse_connection(boost::beast::tcp_stream stream);

}  // namespace ipm::probe
