#include "clients/sticky_key.hpp"

#include <gtest/gtest.h>

namespace {

using ipm::clients::sticky_key;
using ipm::clients::StickyInputs;
using ipm::config::Sticky;

TEST(StickyKeyTest, each_mode_keys_by_its_part_of_the_request) {
  const StickyInputs in{"10.0.0.5:40000", "alice-session-abc123", "cart-7", "Shop.Example"};
  EXPECT_EQ(sticky_key(Sticky::none, in), "");
  EXPECT_EQ(sticky_key(Sticky::client, in), "10.0.0.5");
  EXPECT_EQ(sticky_key(Sticky::username, in), "abc123");
  EXPECT_EQ(sticky_key(Sticky::key, in), "cart-7");
  EXPECT_EQ(sticky_key(Sticky::destination, in), "shop.example");
}

TEST(StickyKeyTest, a_request_without_the_part_has_no_key) {
  const StickyInputs bare{"not an endpoint", "alice", "", ""};
  EXPECT_EQ(sticky_key(Sticky::client, bare), "");
  EXPECT_EQ(sticky_key(Sticky::username, bare), "") << "no session part: the pool's policy";
  EXPECT_EQ(sticky_key(Sticky::key, bare), "");
  EXPECT_EQ(sticky_key(Sticky::destination, bare), "");
}

TEST(StickyKeyTest, every_port_of_a_client_shares_its_key) {
  EXPECT_EQ(sticky_key(Sticky::client, {"10.0.0.5:1", "", "", ""}),
            sticky_key(Sticky::client, {"10.0.0.5:2", "", "", ""}));
  EXPECT_EQ(sticky_key(Sticky::client, {"[fd00::1]:443", "", "", ""}), "fd00::1");
  EXPECT_EQ(sticky_key(Sticky::client, {"[::ffff:10.0.0.5]:2", "", "", ""}), "10.0.0.5");
}

}  // namespace
