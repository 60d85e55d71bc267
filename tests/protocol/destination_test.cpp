#include "proxy/protocol/destination.hpp"

#include <gtest/gtest.h>

#include "proxy/protocol/base64.hpp"
#include "proxy/protocol/step.hpp"

namespace ipm::protocol {
namespace {

TEST(DestinationTest, from_host) {
  EXPECT_EQ(Destination::from_host("10.0.0.1", 1)->type, AddressType::ipv4);
  EXPECT_EQ(Destination::from_host("::ffff:1.2.3.4", 1)->type, AddressType::ipv6);
  EXPECT_EQ(Destination::from_host("a.example", 1)->type, AddressType::domain);
  EXPECT_FALSE(Destination::from_host("", 1));
  EXPECT_FALSE(Destination::from_host(std::string(256, 'a'), 1));
  EXPECT_TRUE(Destination::from_host(std::string(255, 'a'), 1));
  EXPECT_FALSE(Destination::from_host("a b", 1));
  EXPECT_FALSE(Destination::from_host("a\x7f", 1));
}

TEST(DestinationTest, authority_and_port) {
  EXPECT_EQ(parse_authority("h:80")->to_string(), "h:80");
  EXPECT_EQ(parse_authority("[fe80::1]:80")->to_string(), "[fe80::1]:80");
  EXPECT_EQ(parse_authority("[::1]", 80)->to_string(), "[::1]:80");
  EXPECT_EQ(parse_authority("h", 80)->port, 80);
  EXPECT_FALSE(parse_authority("h"));
  EXPECT_FALSE(parse_authority("h:"));
  EXPECT_FALSE(parse_authority(":80"));
  EXPECT_FALSE(parse_authority("h:8x"));
  EXPECT_EQ(parse_port("65535"), 65535);
  EXPECT_FALSE(parse_port("65536"));
  EXPECT_FALSE(parse_port("0"));
  EXPECT_FALSE(parse_port(""));
  EXPECT_EQ(Destination::from_host("::1", 443)->host_for_uri(), "[::1]");
}

TEST(Base64Test, round_trips_and_rejects) {
  for (const std::string s : {"", "a", "ab", "abc", "abcd", "user:p\xff\x00ss"}) {
    EXPECT_EQ(base64_decode(base64_encode(s)), s);
  }
  EXPECT_EQ(base64_encode("alice:secret"), "YWxpY2U6c2VjcmV0");
  EXPECT_FALSE(base64_decode("abc"));
  EXPECT_FALSE(base64_decode("ab=c"));
  EXPECT_FALSE(base64_decode("a==="));
  EXPECT_FALSE(base64_decode("ab*d"));
  EXPECT_FALSE(base64_decode("ab==abcd"));
}

TEST(FailureTest, names) {
  for (std::size_t i = 0; i < kFailureCount; ++i)
    EXPECT_FALSE(to_string(static_cast<Failure>(i)).empty());
  EXPECT_EQ(to_string(Failure::too_large), "too_large");
}

}  // namespace
}  // namespace ipm::protocol
