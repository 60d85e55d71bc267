#pragma once

#include <memory>
#include <optional>
#include <string>

#include <boost/asio/ip/address.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

namespace ipm::probe {

namespace http = boost::beast::http;

/// A request as the router sees it: the parsed HTTP message and the client's address
/// (mutating routes without an api_token answer only to loopback clients).
struct Request {
  http::request<http::string_body> message;
  boost::asio::ip::address peer = boost::asio::ip::address_v4::loopback();
};

/// Produces a response body piece by piece, so a large body (the full history of 1,000 IPs)
/// never sits whole in memory. Used by one session at a time; not thread-safe.
class BodySource {
 public:
  virtual ~BodySource() = default;

  /// Appends the next piece of the body to `out`. Returns false, appending nothing, once
  /// the body is complete.
  virtual bool next(std::string& out) = 0;
};

/// Turns the connection into the page's event stream (GET /api/events): the session sends
/// the response header and then the event feed, for as long as the client reads it.
struct EventStreamStart {
  std::string last_event_id;  ///< the client's Last-Event-ID header, empty when absent
};

/// A response. When `stream` is set the body is `stream`'s output, sent with chunked
/// transfer encoding, and `message.body()` is ignored. When `events` is set the body is the
/// event stream.
struct Response {
  http::response<http::string_body> message;
  std::unique_ptr<BodySource> stream;
  std::optional<EventStreamStart> events;
};

/// `s` without the spaces and tabs around it (a header field value's optional whitespace,
/// RFC 9110 section 5.6.3).
std::string_view trim_ows(std::string_view s);

/// The whole body of `response`, draining its stream if it has one (tests, benchmarks).
std::string body_of(Response& response);

/// `text` with status and content type; the version and keep-alive are set by the session.
Response text_response(http::status status, std::string text,
                       std::string_view content_type = "text/plain; charset=utf-8");

/// An error as JSON: {"error": message}.
Response error_response(http::status status, std::string_view message);

/// A streamed JSON body.
Response streamed_json(std::unique_ptr<BodySource> source);

}  // namespace ipm::probe
