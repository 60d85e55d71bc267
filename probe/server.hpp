#pragma once

#include <memory>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "probe/context.hpp"
#include "probe/server_options.hpp"

namespace ipm::probe {

/// The probe's HTTP/1.1 server (Boost.Beast): keep-alive, pipelining, size caps, read and
/// idle timeouts and a cap on concurrent connections. A connection over the cap gets a 503
/// and is closed; a connection that becomes an event stream (GET /api/events, the web page's
/// live feed) leaves that cap for a cap of its own (max_event_streams), so open pages never
/// lock out /metrics; a slow or malformed client gets a 4xx or a close and never holds up the
/// others. Each connection is one coroutine on its own strand, so the io_context may run
/// on several threads.
///
/// The constructor binds (throws boost::system::system_error when it cannot: a startup
/// error found before a long parse-mode replay); start() listens and begins accepting, so a
/// connection to the port before start() is refused, not left waiting, and a readiness check
/// that connects to it means the process is ready. `context` must outlive the server and every
/// session, i.e. until the io_context has stopped running. Thread-safe: stop() may be called
/// from any thread.
class Server {
 public:
  Server(boost::asio::io_context& io, Context& context, ServerOptions options);
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;
  /// Calls stop().
  ~Server();

  /// Listens and accepts; throws boost::system::system_error when listen(2) fails.
  void start();

  /// Closes the listening socket and every open connection. Idempotent.
  void stop();

  /// The bound address (the port to use when options.port was 0).
  boost::asio::ip::tcp::endpoint local_endpoint() const;

  /// Connections being served now (not counting those refused over the cap, nor event
  /// streams).
  std::size_t active_connections() const;

  /// Event streams (GET /api/events) open now; counted under max_event_streams.
  std::size_t event_streams() const;

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace ipm::probe
