#include "probe/auth.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/probe/fixture.hpp"

namespace {

namespace http = boost::beast::http;
using ipm::probe::body_of;
using ipm::test::ProbeWorld;
using testing::HasSubstr;
using testing::Not;

ipm::config::Config with_token(std::string token) {
  ipm::config::Config c;
  c.api_token = std::move(token);
  return c;
}

TEST(AuthTest, loopback_clients_may_mutate_without_a_token) {
  ProbeWorld w(1);
  int renewed = 0;
  w.context.renew = [&]() -> std::optional<std::string> {
    ++renewed;
    return std::nullopt;
  };
  for (const char* peer : {"127.0.0.1", "127.9.8.7", "::1", "::ffff:127.0.0.1"}) {
    auto r = w.request(http::verb::post, "/api/ip/renew", peer);
    EXPECT_EQ(r.message.result(), http::status::ok) << peer;
    EXPECT_EQ(body_of(r), "Renewed");
  }
  EXPECT_EQ(renewed, 4);
}

TEST(AuthTest, other_clients_are_refused_without_a_token) {
  ProbeWorld w(1);
  int renewed = 0;
  w.context.renew = [&]() -> std::optional<std::string> {
    ++renewed;
    return std::nullopt;
  };
  for (const char* peer : {"10.0.0.1", "192.168.1.1", "::2", "::ffff:10.0.0.1"}) {
    auto r = w.request(http::verb::post, "/api/ip/renew", peer);
    EXPECT_EQ(r.message.result(), http::status::forbidden) << peer;
  }
  auto r = w.request(http::verb::post, "/api/ip/" + ipm::test::ip_of(0) + "/ban", "10.0.0.1");
  EXPECT_EQ(r.message.result(), http::status::forbidden);
  EXPECT_EQ(renewed, 0);
  // Reading stays open to everyone who can reach the port.
  EXPECT_EQ(w.request(http::verb::get, "/probe", "10.0.0.1").message.result(), http::status::ok);
}

TEST(AuthTest, with_a_token_every_client_needs_the_bearer_header) {
  ProbeWorld w(1, with_token("s3cret"));
  int renewed = 0;
  w.context.renew = [&]() -> std::optional<std::string> {
    ++renewed;
    return std::nullopt;
  };

  auto missing = w.request(http::verb::post, "/api/ip/renew", "127.0.0.1");
  EXPECT_EQ(missing.message.result(), http::status::unauthorized);
  EXPECT_EQ(missing.message[http::field::www_authenticate], "Bearer");

  auto wrong = w.request(http::verb::post, "/api/ip/renew", "127.0.0.1",
                         {{"Authorization", "Bearer s3crez"}});
  EXPECT_EQ(wrong.message.result(), http::status::unauthorized);
  EXPECT_THAT(std::string(wrong.message[http::field::www_authenticate]),
              HasSubstr("invalid_token"));
  EXPECT_THAT(body_of(wrong), Not(HasSubstr("s3cret")));

  for (const char* value : {"Bearer s3cret", "bearer s3cret", "  Bearer   s3cret "}) {
    auto ok = w.request(http::verb::post, "/api/ip/renew", "10.1.2.3", {{"Authorization", value}});
    EXPECT_EQ(ok.message.result(), http::status::ok) << value;
  }
  for (const char* value :
       {"Basic czNjcmV0", "Bearer", "s3cret", "Bearer s3cret2", "Bearers3cret"}) {
    auto bad =
        w.request(http::verb::post, "/api/ip/renew", "127.0.0.1", {{"Authorization", value}});
    EXPECT_EQ(bad.message.result(), http::status::unauthorized) << value;
  }
  EXPECT_EQ(renewed, 3);
}

TEST(AuthTest, is_loopback_covers_v4_v6_and_mapped) {
  using boost::asio::ip::make_address;
  EXPECT_TRUE(ipm::probe::is_loopback(make_address("127.0.0.1")));
  EXPECT_TRUE(ipm::probe::is_loopback(make_address("127.255.255.254")));
  EXPECT_TRUE(ipm::probe::is_loopback(make_address("::1")));
  EXPECT_TRUE(ipm::probe::is_loopback(make_address("::ffff:127.0.0.2")));
  EXPECT_FALSE(ipm::probe::is_loopback(make_address("128.0.0.1")));
  EXPECT_FALSE(ipm::probe::is_loopback(make_address("::")));
  EXPECT_FALSE(ipm::probe::is_loopback(make_address("::ffff:10.0.0.1")));
}

}  // namespace
