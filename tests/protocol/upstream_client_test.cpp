#include "proxy/protocol/upstream_client.hpp"

#include <gtest/gtest.h>

#include "proxy/protocol/base64.hpp"
#include "tests/protocol/bytes.hpp"

namespace ipm::protocol {
namespace {

using testing::B;
using testing::feed;
using testing::operator+;
using testing::S;
using testing::text;

const Destination kV4 = Destination::ipv4({127, 0, 0, 1}, 8080);
const Destination kName = *Destination::from_host("example.com", 443);

Destination v6() {
  std::array<std::uint8_t, 16> ip{};
  ip[15] = 1;
  return Destination::ipv6(ip, 80);
}

TEST(Socks5ClientTest, no_auth_connect) {
  Socks5Client c(kV4, std::nullopt);
  EXPECT_EQ(c.output(), B({5, 1, 0}));
  std::vector<std::vector<std::byte>> sent;
  const auto answer = B({5, 0}) + B({5, 0, 0, 1, 10, 0, 0, 9, 0x30, 0x39}) + S("tunnel");
  for (std::size_t slice = 1; slice <= 12; ++slice) {
    Socks5Client fresh(kV4, std::nullopt);
    sent.clear();
    const Step s = feed(fresh, answer, slice, &sent);
    ASSERT_EQ(s.status, Status::done) << slice;
    EXPECT_EQ(s.consumed, answer.size() - 6);
    ASSERT_EQ(sent.size(), 1U);
    EXPECT_EQ(sent[0], B({5, 1, 0, 1, 127, 0, 0, 1, 0x1F, 0x90}));
    EXPECT_EQ(fresh.bound().to_string(), "10.0.0.9:12345");
  }
}

TEST(Socks5ClientTest, user_password_and_every_address_type) {
  Socks5Client c(kName, Credentials{"alice", "secret", true});
  EXPECT_EQ(c.output(), B({5, 2, 0, 2}));
  std::vector<std::vector<std::byte>> sent;
  std::array<std::uint8_t, 16> any{};
  const auto reply_v6 = B({5, 0, 0, 4}) + std::vector<std::byte>(16, std::byte{0}) + B({0, 1});
  ASSERT_EQ(feed(c, B({5, 2, 1, 0}) + reply_v6, 3, &sent).status, Status::done);
  ASSERT_EQ(sent.size(), 2U);
  EXPECT_EQ(sent[0], B({1, 5}) + S("alice") + B({6}) + S("secret"));
  EXPECT_EQ(sent[1], B({5, 1, 0, 3, 11}) + S("example.com") + B({1, 0xBB}));
  EXPECT_EQ(c.bound(), Destination::ipv6(any, 1));

  Socks5Client six(v6(), std::nullopt);
  sent.clear();
  ASSERT_EQ(feed(six, B({5, 0, 5, 0, 0, 3, 4}) + S("host") + B({0, 9}), 64, &sent).status,
            Status::done);
  EXPECT_EQ(sent[0].size(), 22U);
  EXPECT_EQ(sent[0][3], std::byte{4});
  EXPECT_EQ(six.bound().host, "host");
}

TEST(Socks5ClientTest, every_upstream_reply_code_is_reported) {
  for (int code = 1; code <= 0xFF; ++code) {
    Socks5Client c(kV4, std::nullopt);
    const Step s = feed(c, B({5, 0, 5, code, 0, 1, 0, 0, 0, 0, 0, 0}), 64);
    ASSERT_EQ(s.status, Status::error);
    EXPECT_EQ(c.failure(), Failure::refused);
    EXPECT_EQ(c.reply_code(), code);
  }
}

TEST(Socks5ClientTest, protocol_errors) {
  struct Case {
    const char* name;
    std::optional<Credentials> credentials;
    std::vector<std::byte> answer;
    Failure failure;
    int code;
  };
  const Credentials cred{"u", "p", true};
  const std::vector<Case> cases = {
      {"not socks5", std::nullopt, B({4, 0}), Failure::bad_version, -1},
      {"no acceptable method", std::nullopt, B({5, 0xFF}), Failure::auth_failed, 0xFF},
      {"asks for credentials we lack", std::nullopt, B({5, 2}), Failure::auth_failed, 2},
      {"auth refused", cred, B({5, 2, 1, 1}), Failure::auth_failed, 1},
      {"auth version", cred, B({5, 2, 5, 0}), Failure::bad_version, -1},
      {"reply version", std::nullopt, B({5, 0, 4, 0, 0, 1}), Failure::bad_version, -1},
      {"reply address type", std::nullopt, B({5, 0, 5, 0, 0, 9, 0}), Failure::malformed, -1},
  };
  for (const auto& c : cases) {
    Socks5Client codec(kV4, c.credentials);
    EXPECT_EQ(feed(codec, c.answer, 1).status, Status::error) << c.name;
    EXPECT_EQ(codec.failure(), c.failure) << c.name;
    EXPECT_EQ(codec.reply_code(), c.code) << c.name;
    EXPECT_TRUE(codec.output().empty());
  }
}

TEST(Socks5ClientTest, truncated_reply_waits) {
  Socks5Client c(kV4, std::nullopt);
  EXPECT_EQ(feed(c, B({5, 0, 5, 0, 0, 1, 1, 2}), 1).status, Status::need_more);
}

TEST(Socks4ClientTest, connect_ipv4_and_4a) {
  Socks4Client c(kV4, "joe");
  EXPECT_EQ(c.output(), B({4, 1, 0x1F, 0x90, 127, 0, 0, 1}) + S("joe") + B({0}));
  const Step s = feed(c, B({0, 90, 0, 80, 1, 2, 3, 4}) + S("x"), 1);
  ASSERT_EQ(s.status, Status::done);
  EXPECT_EQ(s.consumed, 8U);
  EXPECT_EQ(c.bound().to_string(), "1.2.3.4:80");

  Socks4Client a(kName, "");
  EXPECT_EQ(a.output(), B({4, 1, 1, 0xBB, 0, 0, 0, 1, 0}) + S("example.com") + B({0}));
  EXPECT_EQ(feed(a, B({4, 90, 0, 0, 0, 0, 0, 0}), 8).status, Status::done);  // VN 4 tolerated
}

TEST(Socks4ClientTest, refusals) {
  for (const int code : {91, 92, 93, 17}) {
    Socks4Client c(kV4, "");
    EXPECT_EQ(feed(c, B({0, code, 0, 0, 0, 0, 0, 0}), 64).status, Status::error);
    EXPECT_EQ(c.reply_code(), code);
    EXPECT_EQ(c.failure(), code == 92 || code == 93 ? Failure::auth_failed : Failure::refused);
  }
  Socks4Client bad(kV4, "");
  EXPECT_EQ(feed(bad, B({5, 90, 0, 0, 0, 0, 0, 0}), 64).status, Status::error);
  EXPECT_EQ(bad.failure(), Failure::bad_version);
  EXPECT_EQ(bad.put(B({0})).consumed, 0U);
}

TEST(HttpConnectClientTest, connect_with_and_without_credentials) {
  HttpConnectClient plain(kName, std::nullopt);
  EXPECT_EQ(text(plain.output()),
            "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
  const std::string answer = "HTTP/1.1 200 Connection established\r\nVia: x\r\n\r\n";
  const Step s = feed(plain, S(answer + "\x16"), 5);
  ASSERT_EQ(s.status, Status::done);
  EXPECT_EQ(s.consumed, answer.size());
  EXPECT_EQ(plain.reply_code(), 200);
  EXPECT_EQ(plain.put(S("x")).consumed, 0U);

  HttpConnectClient auth(v6(), Credentials{"a", "b", true});
  EXPECT_EQ(text(auth.output()),
            "CONNECT [::1]:80 HTTP/1.1\r\nHost: [::1]:80\r\nProxy-Authorization: Basic " +
                base64_encode("a:b") + "\r\n\r\n");
  EXPECT_EQ(feed(auth, S("HTTP/1.0 200 OK\n\n"), 64).status, Status::done);
  HttpConnectClient bare(kV4, std::nullopt);  // no reason phrase
  EXPECT_EQ(feed(bare, S("HTTP/1.1 200\r\n\r\n"), 64).status, Status::done);
}

TEST(HttpConnectClientTest, refusals) {
  struct Case {
    std::string answer;
    Failure failure;
    int code;
  };
  for (const auto& c :
       std::vector<Case>{{"HTTP/1.1 403 Forbidden\r\n\r\n", Failure::refused, 403},
                         {"HTTP/1.1 407 Auth\r\n\r\n", Failure::auth_failed, 407},
                         {"HTTP/1.1 502 Bad Gateway\r\n\r\n", Failure::refused, 502},
                         {"HTTP/1.1 101 Switching\r\n\r\n", Failure::refused, 101},
                         {"SSH-2.0-OpenSSH\r\n\r\n", Failure::bad_version, -1},
                         {"HTTP/1.1 2x0 OK\r\n\r\n", Failure::malformed, -1},
                         {"HTTP/1.1 20\r\n\r\n", Failure::malformed, -1},
                         {"HTTP/1.1 2000 OK\r\n\r\n", Failure::malformed, -1}}) {
    HttpConnectClient codec(kV4, std::nullopt);
    EXPECT_EQ(feed(codec, S(c.answer), 64).status, Status::error) << c.answer;
    EXPECT_EQ(codec.failure(), c.failure) << c.answer;
    EXPECT_EQ(codec.reply_code(), c.code) << c.answer;
  }
  HttpConnectClient endless(kV4, std::nullopt);
  EXPECT_EQ(feed(endless, S("HTTP/1.1 200 OK\r\nX: " + std::string(20000, 'a')), 1000).status,
            Status::error);
  EXPECT_EQ(endless.failure(), Failure::too_large);
}

}  // namespace
}  // namespace ipm::protocol
