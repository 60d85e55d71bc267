// libFuzzer target: bytes a client sends to the probe, through Beast's request parser with
// the server's limits and then the router, as a session does. Every parsed request gets an
// answer with a valid status, and every JSON answer parses.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include <boost/beast/http/parser.hpp>
#include <boost/json/parse.hpp>

#include "probe/router.hpp"
#include "tests/probe/fixture.hpp"

namespace {

namespace http = boost::beast::http;

ipm::test::ProbeWorld& world() {
  static ipm::test::ProbeWorld* w = [] {
    ipm::config::Config c;
    c.api_token = "1";
    auto* made = new ipm::test::ProbeWorld(4, c);
    made->fill(4, 20);
    made->trip(2, ipm::test::base_time() + std::chrono::minutes(1));
    made->context.renew = []() -> std::optional<std::string> { return std::nullopt; };
    return made;
  }();
  return *w;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  http::request_parser<http::string_body> parser;
  parser.header_limit(8 * 1024);
  parser.body_limit(64 * 1024);
  parser.eager(true);
  boost::system::error_code ec;
  parser.put(boost::asio::buffer(data, size), ec);
  if (ec || !parser.is_done())
    return 0;  // the session answers these 400/413/431 or waits for more bytes
  const bool loopback = size % 2 == 0;  // both kinds of peer, for the auth rules
  ipm::probe::Request request{parser.release(),
                              boost::asio::ip::make_address(loopback ? "127.0.0.1" : "192.0.2.1")};
  ipm::probe::Response response = ipm::probe::handle(request, world().context);
  const unsigned status = response.message.result_int();
  if (status < 200 || status >= 600)
    std::abort();
  if (response.message[http::field::content_type] == "application/json") {
    boost::system::error_code json_ec;
    boost::json::parse(ipm::probe::body_of(response), json_ec);
    if (json_ec)
      std::abort();
  }
  return 0;
}
