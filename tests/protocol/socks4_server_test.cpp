#include "proxy/protocol/socks4_server.hpp"

#include <gtest/gtest.h>

#include "tests/protocol/bytes.hpp"

namespace ipm::protocol {
namespace {

using testing::B;
using testing::feed;
using testing::operator+;
using testing::S;

TEST(Socks4ServerTest, connect_ipv4_in_every_slicing) {
  const auto input = B({4, 1, 0, 80, 127, 0, 0, 1}) + S("joe") + B({0}) + S("xy");
  for (std::size_t slice = 1; slice <= 12; ++slice) {
    Socks4Server codec;
    const Step s = feed(codec, input, slice);
    ASSERT_EQ(s.status, Status::done) << slice;
    EXPECT_EQ(s.consumed, input.size() - 2);
    EXPECT_EQ(codec.destination().to_string(), "127.0.0.1:80");
    EXPECT_EQ(codec.credentials().user, "joe");
    EXPECT_FALSE(codec.credentials().given);
  }
}

TEST(Socks4ServerTest, socks4a_domain) {
  Socks4Server codec;
  const auto input = B({4, 1, 0x1F, 0x90, 0, 0, 0, 9, 0}) + S("localhost") + B({0});
  ASSERT_EQ(feed(codec, input, 3).status, Status::done);
  EXPECT_EQ(codec.destination().type, AddressType::domain);
  EXPECT_EQ(codec.destination().to_string(), "localhost:8080");
}

TEST(Socks4ServerTest, refusals) {
  struct Case {
    const char* name;
    std::vector<std::byte> input;
    bool auth;
    Failure failure;
    bool reply;
  };
  const std::string long_field(300, 'a');
  const std::vector<Case> cases = {
      {"socks5 bytes", B({5, 1, 0}), false, Failure::bad_version, false},
      {"bind", B({4, 2, 0, 80, 1, 2, 3, 4, 0}), false, Failure::unsupported_command, true},
      {"userid over 255", B({4, 1, 0, 80, 1, 2, 3, 4}) + S(long_field), false, Failure::too_large,
       true},
      {"userid over 255, terminated", B({4, 1, 0, 80, 1, 2, 3, 4}) + S(long_field) + B({0}), false,
       Failure::too_large, true},
      {"domain over 255", B({4, 1, 0, 80, 0, 0, 0, 1, 0}) + S(long_field), false,
       Failure::too_large, true},
      {"domain over 255, terminated", B({4, 1, 0, 80, 0, 0, 0, 1, 0}) + S(long_field) + B({0}),
       false, Failure::too_large, true},
      {"empty domain", B({4, 1, 0, 80, 0, 0, 0, 1, 0, 0}), false, Failure::malformed, true},
      {"port 0", B({4, 1, 0, 0, 1, 2, 3, 4, 0}), false, Failure::malformed, true},
      {"address 0.0.0.0", B({4, 1, 0, 80, 0, 0, 0, 0, 0}), false, Failure::malformed, true},
      {"listener needs a password", B({4, 1, 0, 80, 1, 2, 3, 4, 0}), true, Failure::auth_failed,
       true},
  };
  for (const auto& c : cases) {
    for (const std::size_t slice : {std::size_t{1}, std::size_t{512}}) {
      Socks4Server codec(c.auth);
      EXPECT_EQ(feed(codec, c.input, slice).status, Status::error) << c.name;
      EXPECT_EQ(codec.failure(), c.failure) << c.name;
      EXPECT_EQ(codec.output(),
                c.reply ? socks4_reply(socks4::kRejected) : std::vector<std::byte>{})
          << c.name;
    }
  }
}

TEST(Socks4ServerTest, truncated_waits_and_after_end_consumes_nothing) {
  const auto full = B({4, 1, 0, 80, 127, 0, 0, 1, 0});
  for (std::size_t cut = 0; cut < full.size(); ++cut) {
    Socks4Server codec;
    EXPECT_EQ(feed(codec, std::vector<std::byte>(full.begin(), full.begin() + long(cut)), 1).status,
              Status::need_more);
  }
  Socks4Server codec;
  ASSERT_EQ(feed(codec, full, 64).status, Status::done);
  EXPECT_EQ(codec.put(Bytes(full)).consumed, 0U);
}

TEST(Socks4ServerTest, replies) {
  const auto bound = Destination::ipv4({10, 0, 0, 2}, 1080);
  EXPECT_EQ(socks4_reply(socks4::kGranted, &bound), B({0, 90, 0x04, 0x38, 10, 0, 0, 2}));
  EXPECT_EQ(socks4_reply(socks4::kRejected), B({0, 91, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(socks4_reply(socks4::kNoIdentd)[1], std::byte{92});
  EXPECT_EQ(socks4_reply(socks4::kIdentdMismatch)[1], std::byte{93});
}

}  // namespace
}  // namespace ipm::protocol
