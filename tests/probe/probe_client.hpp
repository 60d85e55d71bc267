#pragma once

// A blocking HTTP/1.1 client of the probe server for tests: raw bytes out, Beast-parsed
// responses in, every read bounded by SO_RCVTIMEO.

#include <sys/socket.h>

#include <array>
#include <string_view>

#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>

namespace ipm::test {

namespace probe_client_detail {
namespace asio = boost::asio;
namespace http = boost::beast::http;
using asio::ip::tcp;

// A blocking client whose reads give up after 5 s, so a server bug fails the test instead
// of hanging it.
class ProbeClient {
 public:
  explicit ProbeClient(std::uint16_t port) : ProbeClient(port, own_io_) {}
  /// A client on a shared io_context (many clients, few descriptors: each io_context holds
  /// an epoll, an eventfd and a timerfd of its own).
  ProbeClient(std::uint16_t port, asio::io_context& io) : socket_(io) {
    socket_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    timeval tv{5, 0};
    ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }

  void send(std::string_view bytes) { asio::write(socket_, asio::buffer(bytes)); }
  /// Each send() its own segment where the kernel allows, so requests arrive in pieces.
  void set_no_delay() { socket_.set_option(tcp::no_delay(true)); }

  http::response<http::string_body> read(boost::system::error_code& ec) {
    http::response_parser<http::string_body> parser;
    parser.body_limit(100 * 1024 * 1024);
    http::read(socket_, buffer_, parser, ec);
    return parser.release();
  }
  http::response<http::string_body> read() {
    boost::system::error_code ec;
    auto r = read(ec);
    EXPECT_FALSE(ec) << ec.message();
    return r;
  }

  http::response<http::empty_body> read_head(boost::system::error_code& ec) {
    http::response_parser<http::empty_body> parser;
    parser.skip(true);  // the answer to HEAD has no body whatever its headers say
    http::read(socket_, buffer_, parser, ec);
    return parser.release();
  }
  http::response<http::empty_body> read_head() {
    boost::system::error_code ec;
    auto r = read_head(ec);
    EXPECT_FALSE(ec) << ec.message();
    return r;
  }

  // True when the server closed the connection (EOF or reset) rather than answering.
  bool closed_by_server() {
    std::array<char, 256> buf{};
    boost::system::error_code ec;
    socket_.read_some(asio::buffer(buf), ec);
    return ec == asio::error::eof || ec == asio::error::connection_reset;
  }

 private:
  asio::io_context own_io_;
  tcp::socket socket_;
  boost::beast::flat_buffer buffer_;
};

}  // namespace probe_client_detail

using probe_client_detail::ProbeClient;

}  // namespace ipm::test
