#include "proxy/protocol/http_request.hpp"

#include <gtest/gtest.h>

#include "proxy/protocol/base64.hpp"
#include "proxy/protocol/replies.hpp"
#include "tests/protocol/bytes.hpp"

namespace ipm::protocol {
namespace {

using testing::feed;
using testing::operator+;
using testing::S;
using testing::text;

CredentialCheck alice() {
  return [](std::string_view u, std::string_view p) { return u == "alice" && p == "secret"; };
}

TEST(HttpRequestTest, connect_in_every_slicing) {
  const std::string head = "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n";
  for (std::size_t slice = 1; slice <= 70; slice += 3) {
    HttpRequest codec;
    const Step s = feed(codec, S(head + "\x16\x03"), slice);
    ASSERT_EQ(s.status, Status::done) << slice;
    EXPECT_EQ(s.consumed, head.size());
    EXPECT_TRUE(codec.is_connect());
    EXPECT_EQ(codec.destination().to_string(), "example.com:443");
    EXPECT_EQ(codec.forward_head(), "");
  }
}

TEST(HttpRequestTest, connect_ipv6_and_bare_newlines) {
  HttpRequest codec;
  ASSERT_EQ(feed(codec, S("CONNECT [::1]:8443 HTTP/1.0\n\n"), 5).status, Status::done);
  EXPECT_EQ(codec.destination().type, AddressType::ipv6);
  EXPECT_EQ(codec.destination().port, 8443);
}

TEST(HttpRequestTest, absolute_uri_is_rewritten_for_the_origin) {
  HttpRequest codec;
  const std::string head =
      "GET http://127.0.0.1:8080/a/b?x=1#frag HTTP/1.1\r\n"
      "Host: wrong.example\r\n"
      "User-Agent: curl/7.88.1\r\n"
      "Proxy-Connection: Keep-Alive\r\n"
      "Connection: keep-alive\r\n"
      "Proxy-Authorization: Basic " +
      base64_encode("u:p") + "\r\n\r\n";
  ASSERT_EQ(feed(codec, S(head), 7).status, Status::done);
  EXPECT_FALSE(codec.is_connect());
  EXPECT_EQ(codec.method(), "GET");
  EXPECT_EQ(codec.destination().to_string(), "127.0.0.1:8080");
  EXPECT_EQ(codec.forward_head(),
            "GET /a/b?x=1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: curl/7.88.1\r\n"
            "Connection: close\r\n\r\n");
  EXPECT_EQ(codec.credentials().user, "u");  // kept for selection; not forwarded
}

TEST(HttpRequestTest, absolute_uri_defaults) {
  HttpRequest codec;
  ASSERT_EQ(
      feed(codec, S("POST HTTP://example.com HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc"), 64).status,
      Status::done);
  EXPECT_EQ(codec.destination().to_string(), "example.com:80");
  EXPECT_EQ(
      codec.forward_head(),
      "POST / HTTP/1.0\r\nHost: example.com\r\nContent-Length: 3\r\nConnection: close\r\n\r\n");

  HttpRequest query;
  ASSERT_EQ(feed(query, S("GET http://h?q HTTP/1.1\r\n\r\n"), 64).status, Status::done);
  EXPECT_EQ(query.forward_head(), "GET /?q HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
}

TEST(HttpRequestTest, basic_auth) {
  const auto with = [](std::string_view credentials) {
    return "CONNECT h:1 HTTP/1.1\r\nProxy-Authorization: Basic " + base64_encode(credentials) +
           "\r\n\r\n";
  };
  HttpRequest ok(alice());
  ASSERT_EQ(feed(ok, S(with("alice:secret")), 64).status, Status::done);
  EXPECT_TRUE(ok.credentials().given);

  for (const std::string& head :
       {with("alice:wrong"), with("no-colon"), std::string("CONNECT h:1 HTTP/1.1\r\n\r\n"),
        std::string("CONNECT h:1 HTTP/1.1\r\nProxy-Authorization: Bearer x\r\n\r\n"),
        std::string("CONNECT h:1 HTTP/1.1\r\nProxy-Authorization: Basic !!!!\r\n\r\n")}) {
    HttpRequest codec(alice());
    EXPECT_EQ(feed(codec, S(head), 64).status, Status::error) << head;
    EXPECT_EQ(codec.failure(), Failure::auth_failed);
    EXPECT_EQ(codec.status(), 407);
    EXPECT_NE(text(codec.output()).find("Proxy-Authenticate: Basic"), std::string_view::npos);
  }
}

TEST(HttpRequestTest, refusals) {
  struct Case {
    std::string head;
    Failure failure;
    int status;
  };
  const std::vector<Case> cases = {
      {"CONNECT h:1\r\n\r\n", Failure::malformed, 400},
      {"CONNECT  h:1 HTTP/1.1\r\n\r\n", Failure::malformed, 400},
      {"CONNECT h:1 HTTP/1.1 x\r\n\r\n", Failure::malformed, 400},
      {"CONNECT h:1 HTTP/2.0\r\n\r\n", Failure::bad_version, 505},
      {"CONNECT h:1 SPDY/3\r\n\r\n", Failure::malformed, 400},
      {"CONN(ECT h:1 HTTP/1.1\r\n\r\n", Failure::malformed, 400},
      {"CONNECT h HTTP/1.1\r\n\r\n", Failure::malformed, 400},
      {"CONNECT h:0 HTTP/1.1\r\n\r\n", Failure::malformed, 400},
      {"CONNECT h:99999 HTTP/1.1\r\n\r\n", Failure::malformed, 400},
      {"CONNECT ::1:80 HTTP/1.1\r\n\r\n", Failure::malformed, 400},
      {"CONNECT [::1:80 HTTP/1.1\r\n\r\n", Failure::malformed, 400},
      {"CONNECT [zz]:80 HTTP/1.1\r\n\r\n", Failure::malformed, 400},
      {"CONNECT [::1]x HTTP/1.1\r\n\r\n", Failure::malformed, 400},
      {"GET / HTTP/1.1\r\nHost: h\r\n\r\n", Failure::unsupported_command, 400},
      {"GET https://h/ HTTP/1.1\r\n\r\n", Failure::unsupported_command, 400},
      {"GET http://user:pw@h/ HTTP/1.1\r\n\r\n", Failure::malformed, 400},
      {"GET http:///x HTTP/1.1\r\n\r\n", Failure::malformed, 400},
      {"CONNECT h:1 HTTP/1.1\r\nbad header\r\n\r\n", Failure::malformed, 400},
      {"CONNECT h:1 HTTP/1.1\r\nA: b\r\n folded\r\n\r\n", Failure::malformed, 400},
      {"CONNECT " + std::string(300, 'a') + ":1 HTTP/1.1\r\n\r\n", Failure::malformed, 400},
  };
  for (const auto& c : cases) {
    HttpRequest codec;
    EXPECT_EQ(feed(codec, S(c.head), 16).status, Status::error) << c.head;
    EXPECT_EQ(codec.failure(), c.failure) << c.head;
    EXPECT_EQ(codec.status(), c.status) << c.head;
    EXPECT_TRUE(text(codec.output()).starts_with("HTTP/1.1 " + std::to_string(c.status))) << c.head;
  }
}

TEST(HttpRequestTest, oversized_heads_get_431) {
  HttpRequest endless(CredentialCheck{}, 1024);
  EXPECT_EQ(feed(endless, S("CONNECT h:1 HTTP/1.1\r\nX: " + std::string(2000, 'a')), 100).status,
            Status::error);
  EXPECT_EQ(endless.status(), 431);

  // A head that ends just past the limit within one read.
  HttpRequest complete(CredentialCheck{}, 64);
  EXPECT_EQ(
      complete.put(testing::S("CONNECT h:1 HTTP/1.1\r\nX: " + std::string(60, 'a') + "\r\n\r\n"))
          .status,
      Status::error);
  EXPECT_EQ(complete.failure(), Failure::too_large);
}

TEST(HttpRequestTest, truncated_waits_and_after_end_consumes_nothing) {
  HttpRequest codec;
  EXPECT_EQ(feed(codec, S("CONNECT h:1 HTTP/1.1\r\nHost: h:1\r\n"), 1).status, Status::need_more);
  EXPECT_EQ(feed(codec, S("\r\n"), 1).status, Status::done);
  EXPECT_EQ(codec.put(S("more")).consumed, 0U);
}

TEST(HttpRequestTest, responses) {
  EXPECT_EQ(text(http_connect_established()), "HTTP/1.1 200 Connection established\r\n\r\n");
  for (const int status : {400, 403, 407, 429, 431, 502, 503, 504, 505, 599}) {
    const auto r = http_response(status);
    EXPECT_TRUE(text(r).starts_with("HTTP/1.1 " + std::to_string(status) + " "));
    EXPECT_TRUE(text(r).ends_with("Content-Length: 0\r\nConnection: close\r\n\r\n"));
  }
}

TEST(HttpRequestTest, refusal_codes) {
  struct Case {
    Refusal refusal;
    std::uint8_t socks5;
    int http;
  };
  for (const Case c : {Case{Refusal::not_allowed, 0x02, 403}, Case{Refusal::no_egress, 0x01, 503},
                       Case{Refusal::dns_failed, 0x04, 502}, Case{Refusal::refused, 0x05, 502},
                       Case{Refusal::unreachable, 0x04, 502}, Case{Refusal::timeout, 0x04, 504},
                       Case{Refusal::failed, 0x01, 502}, Case{Refusal::address_mismatch, 0x08, 502},
                       Case{Refusal::client_limit, 0x02, 429}}) {
    EXPECT_EQ(socks5_code(c.refusal), c.socks5) << to_string(c.refusal);
    EXPECT_EQ(http_status(c.refusal), c.http) << to_string(c.refusal);
  }
}

TEST(HttpRequestTest, first_byte_detection) {
  EXPECT_EQ(detect(std::byte{5}), FrontProtocol::socks5);
  EXPECT_EQ(detect(std::byte{4}), FrontProtocol::socks4);
  EXPECT_EQ(detect(std::byte{'C'}), FrontProtocol::http);
  EXPECT_EQ(detect(std::byte{'g'}), FrontProtocol::unknown);
  EXPECT_EQ(detect(std::byte{0x16}), FrontProtocol::unknown);  // TLS
  EXPECT_EQ(to_string(FrontProtocol::socks4), "socks4");
}

}  // namespace
}  // namespace ipm::protocol
