// Bounded random-input test for the probe's request handling: random and mutated requests
// go through Beast's parser with the server's limits and then through the router. Nothing
// may crash or throw, every answer is a valid HTTP status, and every JSON body parses.
#include "probe/router.hpp"

#include <random>

#include <gtest/gtest.h>
#include <boost/beast/http/parser.hpp>
#include <boost/json/parse.hpp>

#include "tests/probe/fixture.hpp"

namespace {

namespace http = boost::beast::http;

const char* const kPieces[] = {"/probe",
                               "/api/ip/",
                               "/api/ip/history",
                               "/api/ip/renew",
                               "/metrics",
                               "/ping",
                               "/config",
                               "/api/decisions",
                               "/ban",
                               "/unban",
                               "/reset",
                               "?",
                               "&",
                               "=",
                               "ip",
                               "state",
                               "limit",
                               "for",
                               "reason",
                               "10.0.0.1",
                               "10.0.0.2",
                               ",",
                               "%",
                               "%2C",
                               "%zz",
                               "%00",
                               "+",
                               "cooling",
                               "10m",
                               "-1",
                               "99999999999999999999",
                               "\xff",
                               "\"",
                               "\\",
                               "/",
                               "#",
                               "available",
                               "0"};

std::string random_target(std::mt19937& rng) {
  std::string t = "/";
  const int n = std::uniform_int_distribution<int>(1, 8)(rng);
  for (int i = 0; i < n; ++i)
    t += kPieces[std::uniform_int_distribution<std::size_t>(0, std::size(kPieces) - 1)(rng)];
  return t;
}

std::string random_request(std::mt19937& rng) {
  static const char* const kMethods[] = {"GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "BREW"};
  std::string r = kMethods[std::uniform_int_distribution<std::size_t>(0, 6)(rng)];
  r += " " + random_target(rng) + " HTTP/1.1\r\nHost: probe\r\n";
  if (rng() % 3 == 0)
    r += "Authorization: Bearer " + std::to_string(rng() % 3) + "\r\n";
  if (rng() % 4 == 0)
    r += "Content-Length: " + std::to_string(rng() % 64) + "\r\n";
  r += "\r\n";
  // Flip, drop or insert a few bytes in some of them.
  const int edits = rng() % 2 == 0 ? 0 : std::uniform_int_distribution<int>(1, 4)(rng);
  for (int e = 0; e < edits && !r.empty(); ++e) {
    const std::size_t at = std::uniform_int_distribution<std::size_t>(0, r.size() - 1)(rng);
    switch (rng() % 3) {
      case 0:
        r[at] = static_cast<char>(rng());
        break;
      case 1:
        r.erase(at, 1);
        break;
      default:
        r.insert(at, 1, static_cast<char>(rng()));
    }
  }
  return r + std::string(rng() % 64, 'x');
}

TEST(ProbeFuzzTest, random_requests_never_crash_and_always_get_a_valid_answer) {
  ipm::config::Config c;
  c.api_token = "1";
  ipm::test::ProbeWorld w(4, c);
  w.fill(4, 20);
  w.trip(2, ipm::test::base_time() + std::chrono::minutes(1));
  w.context.renew = []() -> std::optional<std::string> { return std::nullopt; };
  std::mt19937 rng(20261122);
  int parsed = 0;
  for (int i = 0; i < 20000; ++i) {
    const std::string bytes = random_request(rng);
    http::request_parser<http::string_body> parser;
    parser.header_limit(8 * 1024);
    parser.body_limit(64 * 1024);
    parser.eager(true);
    boost::system::error_code ec;
    parser.put(boost::asio::buffer(bytes), ec);
    if (ec || !parser.is_done())
      continue;  // the session answers these 400/413/431 or waits for more bytes
    ++parsed;
    ipm::probe::Request request{parser.release(), boost::asio::ip::make_address("127.0.0.1")};
    ipm::probe::Response response = ipm::probe::handle(request, w.context);
    const int status = response.message.result_int();
    ASSERT_GE(status, 200) << bytes;
    ASSERT_LT(status, 600) << bytes;
    const std::string body = ipm::probe::body_of(response);
    if (response.message[http::field::content_type] == "application/json") {
      boost::system::error_code json_ec;
      boost::json::parse(body, json_ec);
      ASSERT_FALSE(json_ec) << bytes << "\n" << body.substr(0, 500);
    }
  }
  EXPECT_GT(parsed, 5000);  // the generator reaches the router, not only the parser
}

}  // namespace
