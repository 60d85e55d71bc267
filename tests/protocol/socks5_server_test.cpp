#include "proxy/protocol/socks5_server.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/protocol/bytes.hpp"

namespace ipm::protocol {
namespace {

using testing::B;
using testing::feed;
using testing::operator+;
using ::testing::ElementsAre;
using testing::S;

CredentialCheck alice() {
  return [](std::string_view u, std::string_view p) { return u == "alice" && p == "secret"; };
}

const auto kGreetNoAuth = B({5, 1, 0});
const auto kConnectV4 = B({5, 1, 0, 1, 127, 0, 0, 1, 0x1F, 0x90});

TEST(Socks5ServerTest, connect_ipv4_without_auth_in_every_slicing) {
  for (std::size_t slice = 1; slice <= 16; ++slice) {
    Socks5Server codec;
    std::vector<std::vector<std::byte>> replies;
    const auto input = kGreetNoAuth + kConnectV4 + S("GET");
    const Step s = feed(codec, input, slice, &replies);
    ASSERT_EQ(s.status, Status::done) << "slice " << slice;
    EXPECT_EQ(s.consumed, input.size() - 3);  // the pipelined payload is left
    ASSERT_EQ(replies.size(), 1U);
    EXPECT_EQ(replies[0], B({5, 0}));
    EXPECT_EQ(codec.destination().type, AddressType::ipv4);
    EXPECT_EQ(codec.destination().to_string(), "127.0.0.1:8080");
    EXPECT_FALSE(codec.credentials().given);
  }
}

TEST(Socks5ServerTest, connect_ipv6_and_domain) {
  Socks5Server v6;
  const auto request = B({5, 1, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 80});
  ASSERT_EQ(feed(v6, kGreetNoAuth + request, 64).status, Status::done);
  EXPECT_EQ(v6.destination().to_string(), "[::1]:80");

  Socks5Server domain;
  const auto by_name = B({5, 1, 0, 3, 11}) + S("example.com") + B({1, 0xBB});
  ASSERT_EQ(feed(domain, kGreetNoAuth + by_name, 64).status, Status::done);
  EXPECT_EQ(domain.destination().type, AddressType::domain);
  EXPECT_EQ(domain.destination().to_string(), "example.com:443");

  // A domain that is an IP literal is treated as that IP (address checks must see it).
  Socks5Server literal;
  const auto ip_as_name = B({5, 1, 0, 3, 9}) + S("127.0.0.1") + B({0, 80});
  ASSERT_EQ(feed(literal, kGreetNoAuth + ip_as_name, 64).status, Status::done);
  EXPECT_EQ(literal.destination().type, AddressType::ipv4);
}

TEST(Socks5ServerTest, username_password_accepted_and_refused) {
  Socks5Server ok(alice());
  std::vector<std::vector<std::byte>> replies;
  const auto auth = B({1, 5}) + S("alice") + B({6}) + S("secret");
  ASSERT_EQ(feed(ok, B({5, 2, 0, 2}) + auth + kConnectV4, 1, &replies).status, Status::done);
  EXPECT_THAT(replies, ElementsAre(B({5, 2}), B({1, 0})));
  EXPECT_TRUE(ok.credentials().given);
  EXPECT_EQ(ok.credentials().user, "alice");

  Socks5Server wrong(alice());
  replies.clear();
  const auto bad = B({1, 5}) + S("alice") + B({5}) + S("guess");
  EXPECT_EQ(feed(wrong, B({5, 1, 2}) + bad, 3, &replies).status, Status::error);
  EXPECT_EQ(wrong.failure(), Failure::auth_failed);
  EXPECT_EQ(wrong.output(), B({1, 1}));
}

TEST(Socks5ServerTest, credentials_offered_to_an_open_listener_are_kept) {
  Socks5Server codec;  // no check: any credentials pass, the username steers selection
  const auto auth = B({1, 3}) + S("bob") + B({0});
  ASSERT_EQ(feed(codec, B({5, 1, 2}) + auth + kConnectV4, 4).status, Status::done);
  EXPECT_EQ(codec.credentials().user, "bob");
  EXPECT_EQ(codec.credentials().password, "");
}

TEST(Socks5ServerTest, every_refusal_has_its_reply) {
  struct Case {
    const char* name;
    std::vector<std::byte> input;
    bool auth;
    Failure failure;
    std::vector<std::byte> reply;
  };
  const auto general = socks5_reply(socks5::kGeneralFailure);
  const std::vector<Case> cases = {
      {"socks4 greeting", B({4, 1, 0, 80}), false, Failure::bad_version, {}},
      {"http bytes", S("GET / HTTP/1.1\r\n"), false, Failure::bad_version, {}},
      {"no methods", B({5, 0}), false, Failure::no_method, B({5, 0xFF})},
      {"only gssapi", B({5, 1, 1}), false, Failure::no_method, B({5, 0xFF})},
      {"no auth offered to a secured listener", B({5, 1, 0}), true, Failure::no_method,
       B({5, 0xFF})},
      {"bad auth version", B({5, 1, 2, 5, 1, 'a', 1, 'b'}), true, Failure::bad_version, B({1, 1})},
      {"request version", kGreetNoAuth + B({4, 1, 0, 1, 1, 2, 3, 4, 0, 80}), false,
       Failure::bad_version, general},
      {"bind", kGreetNoAuth + B({5, 2, 0, 1, 1, 2, 3, 4, 0, 80}), false,
       Failure::unsupported_command, socks5_reply(socks5::kCommandNotSupported)},
      {"udp associate", kGreetNoAuth + B({5, 3, 0, 1, 0, 0, 0, 0, 0, 0}), false,
       Failure::unsupported_command, socks5_reply(socks5::kCommandNotSupported)},
      {"address type 2", kGreetNoAuth + B({5, 1, 0, 2, 1, 2, 3, 4, 0, 80}), false,
       Failure::unsupported_address, socks5_reply(socks5::kAddressTypeNotSupported)},
      {"empty domain", kGreetNoAuth + B({5, 1, 0, 3, 0, 0, 80}), false, Failure::malformed,
       general},
      {"control byte in domain", kGreetNoAuth + B({5, 1, 0, 3, 2, 'a', 0, 0, 80}), false,
       Failure::malformed, general},
      {"port 0", kGreetNoAuth + B({5, 1, 0, 1, 1, 2, 3, 4, 0, 0}), false, Failure::malformed,
       general},
  };
  for (const auto& c : cases) {
    for (const std::size_t slice : {std::size_t{1}, std::size_t{64}}) {
      Socks5Server codec(c.auth ? alice() : CredentialCheck{});
      EXPECT_EQ(feed(codec, c.input, slice).status, Status::error) << c.name;
      EXPECT_EQ(codec.failure(), c.failure) << c.name;
      EXPECT_EQ(codec.output(), c.reply) << c.name;
    }
  }
}

TEST(Socks5ServerTest, truncated_handshakes_wait_for_more) {
  const auto full = kGreetNoAuth + kConnectV4;
  for (std::size_t cut = 0; cut < full.size(); ++cut) {
    Socks5Server codec;
    const std::vector<std::byte> part(full.begin(), full.begin() + static_cast<long>(cut));
    EXPECT_EQ(feed(codec, part, 1).status, Status::need_more) << "cut at " << cut;
  }
}

TEST(Socks5ServerTest, put_after_the_end_consumes_nothing) {
  Socks5Server codec;
  ASSERT_EQ(feed(codec, kGreetNoAuth + kConnectV4, 64).status, Status::done);
  const auto more = S("data");
  EXPECT_EQ(codec.put(Bytes(more)).consumed, 0U);
}

TEST(Socks5ServerTest, replies_carry_the_bound_address) {
  const auto v4 = Destination::ipv4({10, 1, 2, 3}, 4321);
  EXPECT_EQ(socks5_reply(0, &v4), B({5, 0, 0, 1, 10, 1, 2, 3, 0x10, 0xE1}));
  std::array<std::uint8_t, 16> loop{};
  loop[15] = 1;
  const auto v6 = Destination::ipv6(loop, 80);
  EXPECT_EQ(socks5_reply(0, &v6),
            B({5, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 80}));
  const auto name = *Destination::from_host("example.com", 80);
  EXPECT_EQ(socks5_reply(socks5::kHostUnreachable, &name), B({5, 4, 0, 1, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(socks5_reply(socks5::kNotAllowed), B({5, 2, 0, 1, 0, 0, 0, 0, 0, 0}));
}

}  // namespace
}  // namespace ipm::protocol
