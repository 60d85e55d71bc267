#include "clients/client_limits.hpp"

#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace {

using ipm::clients::ClientAddress;
using ipm::clients::ClientLimits;
using ipm::clients::LimitOptions;

ClientAddress addr(const char* text) {
  return *ClientAddress::parse(text);
}

TEST(ClientLimitsTest, the_client_past_its_cap_is_refused_until_one_ends) {
  ClientLimits limits(LimitOptions{.per_client = 2});
  auto a = limits.admit_client(addr("127.0.0.5"));
  auto b = limits.admit_client(addr("127.0.0.5"));
  ASSERT_TRUE(a);
  ASSERT_TRUE(b);
  EXPECT_FALSE(limits.admit_client(addr("127.0.0.5")));
  // Another client is not affected.
  EXPECT_TRUE(limits.admit_client(addr("127.0.0.6")));
  a = {};
  EXPECT_TRUE(limits.admit_client(addr("127.0.0.5")));
}

TEST(ClientLimitsTest, per_egress_caps_count_each_egress_apart) {
  ClientLimits limits(LimitOptions{.per_client_egress = 1});
  auto a = limits.admit_egress(addr("127.0.0.5"), "127.0.1.1");
  ASSERT_TRUE(a);
  EXPECT_FALSE(limits.admit_egress(addr("127.0.0.5"), "127.0.1.1"));
  EXPECT_TRUE(limits.admit_egress(addr("127.0.0.5"), "127.0.1.2"));
  EXPECT_TRUE(limits.admit_egress(addr("127.0.0.6"), "127.0.1.1"));
}

TEST(ClientLimitsTest, a_subnet_prefix_makes_the_subnet_one_client) {
  ClientLimits limits(LimitOptions{.per_client = 1, .v4_prefix = 24, .v6_prefix = 64});
  auto a = limits.admit_client(addr("10.0.0.1"));
  ASSERT_TRUE(a);
  EXPECT_FALSE(limits.admit_client(addr("10.0.0.200")));
  EXPECT_TRUE(limits.admit_client(addr("10.0.1.1")));
  auto v6 = limits.admit_client(addr("2001:db8::1"));
  ASSERT_TRUE(v6);
  EXPECT_FALSE(limits.admit_client(addr("2001:db8::ffff:1")));
  const auto counts = limits.counts();
  ASSERT_FALSE(counts.empty());
  EXPECT_EQ(counts.front().connections, 1U);
  bool subnet_named = false;
  for (const auto& c : counts)
    subnet_named |= c.client == "10.0.0.0/24";
  EXPECT_TRUE(subnet_named);
}

TEST(ClientLimitsTest, counts_show_each_client_and_its_egresses_and_forget_closed_ones) {
  ClientLimits limits(LimitOptions{});
  {
    auto c1 = limits.admit_client(addr("127.0.0.5"));
    auto c2 = limits.admit_client(addr("127.0.0.5"));
    auto e1 = limits.admit_egress(addr("127.0.0.5"), "127.0.1.1");
    auto e2 = limits.admit_egress(addr("127.0.0.5"), "127.0.1.2");
    auto other = limits.admit_client(addr("127.0.0.6"));
    const auto counts = limits.counts();
    ASSERT_EQ(counts.size(), 2U);
    EXPECT_EQ(counts[0].client, "127.0.0.5");
    EXPECT_EQ(counts[0].connections, 2U);
    ASSERT_EQ(counts[0].per_egress.size(), 2U);
    EXPECT_EQ(counts[0].per_egress[0].first, "127.0.1.1");
    EXPECT_EQ(counts[1].connections, 1U);
  }
  EXPECT_TRUE(limits.counts().empty());
}

TEST(ClientLimitsTest, concurrent_admissions_never_pass_the_cap) {
  ClientLimits limits(LimitOptions{.per_client = 8});
  std::atomic<int> held{0}, most{0};
  std::vector<std::jthread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) {
        auto lease = limits.admit_client(addr("127.0.0.9"));
        if (!lease)
          continue;
        const int now = ++held;
        int seen = most.load();
        while (now > seen && !most.compare_exchange_weak(seen, now)) {
        }
        --held;
      }
    });
  threads.clear();
  EXPECT_LE(most.load(), 8);
  EXPECT_TRUE(limits.counts().empty());
}

}  // namespace
