#include "probe/session.hpp"

#include <array>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/chunk_encode.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/write.hpp>

#include "probe/event_stream.hpp"
#include "probe/router.hpp"

namespace ipm::probe {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using boost::system::error_code;

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

// Streamed bodies are flushed to the socket in pieces of at least this size.
constexpr std::size_t kFlushBytes = 64 * 1024;

template <class Body>
void set_common_fields(http::response<Body>& header, unsigned version, bool keep_alive) {
  header.version(version);
  header.keep_alive(keep_alive);
  header.set(http::field::server, "ipmanager");
}

// A bad request gets an answer it can understand before the close.
Response parse_error_response(const error_code& ec) {
  if (ec == http::error::header_limit)
    return error_response(http::status::request_header_fields_too_large,
                          "request header too large");
  if (ec == http::error::body_limit)
    return error_response(http::status::payload_too_large, "request body too large");
  return error_response(http::status::bad_request, "malformed request: " + ec.message());
}

bool is_parse_error(const error_code& ec) {
  return ec.category() == http::make_error_code(http::error::bad_method).category() &&
         ec != http::error::end_of_stream && ec != http::error::partial_message;
}

asio::awaitable<error_code> write_plain(beast::tcp_stream& stream, Response& response,
                                        bool head_only, const ServerOptions& options) {
  response.message.prepare_payload();
  stream.expires_after(options.write_timeout);
  if (head_only) {
    http::response_serializer<http::string_body> serializer(response.message);
    auto [ec, n] = co_await http::async_write_header(stream, serializer, kTuple);
    co_return ec;
  }
  auto [ec, n] = co_await http::async_write(stream, response.message, kTuple);
  co_return ec;
}

// Sends the header with chunked transfer encoding, then the body source piece by piece,
// so only one piece is in memory at a time. HTTP/1.0 has no chunked encoding: a 1.0 client
// gets the raw body, ended by closing the connection.
asio::awaitable<error_code> write_streamed(beast::tcp_stream& stream, Response& response,
                                           bool head_only, const ServerOptions& options) {
  const bool chunked = response.message.version() >= 11;
  if (!chunked)
    response.message.keep_alive(false);
  http::response<http::empty_body> header(response.message.result(), response.message.version());
  for (const auto& f : response.message)
    header.set(f.name_string(), f.value());
  header.keep_alive(response.message.keep_alive());
  header.chunked(chunked);
  http::response_serializer<http::empty_body> serializer(header);
  stream.expires_after(options.write_timeout);
  if (auto [ec, n] = co_await http::async_write_header(stream, serializer, kTuple); ec)
    co_return ec;
  if (head_only)
    co_return error_code{};

  std::string piece;
  bool more = true;
  while (more) {
    piece.clear();
    while (piece.size() < kFlushBytes && (more = response.stream->next(piece))) {
    }
    if (piece.empty())
      break;
    stream.expires_after(options.write_timeout);
    auto [ec, n] =
        chunked ? co_await asio::async_write(stream, http::make_chunk(asio::buffer(piece)), kTuple)
                : co_await asio::async_write(stream, asio::buffer(piece), kTuple);
    if (ec)
      co_return ec;
  }
  if (!chunked)
    co_return error_code{};
  stream.expires_after(options.write_timeout);
  auto [ec, n] = co_await asio::async_write(stream, http::make_chunk_last(), kTuple);
  co_return ec;
}

// Half-closes, then drains what the client still sends for a short while before closing:
// closing with unread bytes would reset the connection and could destroy the answer we
// just wrote (RFC 9112 section 9.6) before the client read it.
asio::awaitable<void> close_gracefully(beast::tcp_stream& stream) {
  error_code ignored;
  stream.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  stream.expires_after(std::chrono::seconds(1));
  std::array<char, 4096> sink{};
  for (;;) {
    auto [ec, n] = co_await stream.async_read_some(asio::buffer(sink), kTuple);
    if (ec)
      break;
  }
  stream.close();
}

// GET /api/events: the header, then the feed until the stream ends; the connection is not
// reused afterwards.
asio::awaitable<void> serve_events(beast::tcp_stream& stream, Response& response,
                                   EventStreamAccess& events, const ServerOptions& options) {
  const unsigned version = response.message.version();
  if (events.feed == nullptr || !events.begin()) {
    Response busy =
        events.feed == nullptr
            ? error_response(http::status::service_unavailable, "the event stream is not wired")
            : error_response(http::status::service_unavailable,
                             "too many event streams open (probe_max_event_streams)");
    set_common_fields(busy.message, version, false);
    busy.message.set(http::field::retry_after, "5");
    co_await write_plain(stream, busy, false, options);
    co_await close_gracefully(stream);
    co_return;
  }
  const bool chunked = version >= 11;
  http::response<http::empty_body> header(response.message.result(), version);
  for (const auto& f : response.message)
    header.set(f.name_string(), f.value());
  header.keep_alive(false);
  header.chunked(chunked);
  http::response_serializer<http::empty_body> serializer(header);
  stream.expires_after(options.write_timeout);
  if (auto [ec, n] = co_await http::async_write_header(stream, serializer, kTuple); ec)
    co_return;
  co_await stream_events(stream, *events.feed, std::move(response.events->last_event_id), chunked,
                         options);
  co_await close_gracefully(stream);
}

}  // namespace

asio::awaitable<void> serve_connection(std::shared_ptr<beast::tcp_stream> stream_ptr,
                                       Context& context, const ServerOptions& options,
                                       EventStreamAccess events) {
  beast::tcp_stream& stream = *stream_ptr;
  error_code peer_ec;
  const auto peer = stream.socket().remote_endpoint(peer_ec);
  if (peer_ec)
    co_return;  // the client is already gone

  beast::flat_buffer buffer;
  for (;;) {
    // Between requests: wait for the first byte under the idle timeout. Pipelined bytes
    // already in the buffer skip the wait.
    if (buffer.size() == 0) {
      stream.expires_after(options.idle_timeout);
      auto [ec, n] = co_await stream.async_read_some(buffer.prepare(4096), kTuple);
      if (ec)
        co_return;  // closed, reset or idle: nothing to answer (never loop on EOF, beast#2637)
      buffer.commit(n);
    }

    http::request_parser<http::string_body> parser;
    parser.header_limit(options.header_limit);
    parser.body_limit(options.body_limit);
    stream.expires_after(options.read_timeout);
    auto [ec, n] = co_await http::async_read(stream, buffer, parser, kTuple);
    if (ec) {
      if (is_parse_error(ec)) {
        Response refusal = parse_error_response(ec);
        set_common_fields(refusal.message, 11, false);
        co_await write_plain(stream, refusal, false, options);
        co_await close_gracefully(stream);
      }
      co_return;  // timeout (the stream closed itself), EOF mid-request or a socket error
    }

    Request request{parser.release(), peer.address()};
    const bool head_only = request.message.method() == http::verb::head;
    Response response = handle(request, context);
    set_common_fields(response.message, request.message.version(), request.message.keep_alive());
    if (response.events && !head_only) {
      co_await serve_events(stream, response, events, options);
      co_return;
    }
    const error_code write_ec = response.stream
                                    ? co_await write_streamed(stream, response, head_only, options)
                                    : co_await write_plain(stream, response, head_only, options);
    if (write_ec)
      co_return;
    if (!response.message.keep_alive()) {
      co_await close_gracefully(stream);
      co_return;
    }
  }
}

asio::awaitable<void> refuse_connection(beast::tcp_stream stream) {
  Response r = error_response(http::status::service_unavailable, "too many connections");
  set_common_fields(r.message, 11, false);
  r.message.set(http::field::retry_after, "1");
  r.message.prepare_payload();
  stream.expires_after(std::chrono::seconds(1));
  co_await http::async_write(stream, r.message, kTuple);
  co_await close_gracefully(stream);
}

}  // namespace ipm::probe
