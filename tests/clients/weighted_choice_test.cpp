#include "clients/weighted_choice.hpp"

#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace {

using ipm::clients::Candidate;
using ipm::clients::rendezvous;
using ipm::clients::SmoothRotation;
using ipm::clients::split_session;

std::vector<std::string> ids(int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i)
    out.push_back("127.0.1." + std::to_string(i + 1));
  return out;
}

TEST(SmoothRotationTest, each_cycle_gives_every_candidate_exactly_its_weight_interleaved) {
  const std::vector<Candidate> c = {{"a", 5}, {"b", 1}};
  SmoothRotation r;
  std::string order;
  for (int i = 0; i < 60; ++i)
    order += c[*r.next(c)].id;
  for (int cycle = 0; cycle < 10; ++cycle) {
    const std::string six = order.substr(cycle * 6, 6);
    EXPECT_EQ(std::count(six.begin(), six.end(), 'b'), 1) << six;
  }
  // Smooth: the one b sits inside the cycle, not after five a's at its end.
  EXPECT_EQ(order.substr(0, 6), "aaabaa");
}

TEST(SmoothRotationTest, three_weights_and_a_zero) {
  const std::vector<Candidate> c = {{"a", 3}, {"b", 2}, {"never", 0}, {"c", 1}};
  SmoothRotation r;
  for (int cycle = 0; cycle < 20; ++cycle) {
    std::map<std::string_view, int> got;
    for (int i = 0; i < 6; ++i)
      ++got[c[*r.next(c)].id];
    EXPECT_EQ(got["a"], 3);
    EXPECT_EQ(got["b"], 2);
    EXPECT_EQ(got["c"], 1);
    EXPECT_EQ(got.count("never"), 0U);
  }
  const std::vector<Candidate> none = {{"a", 0}};
  EXPECT_FALSE(r.next(none).has_value());
  EXPECT_FALSE(r.next({}).has_value());
}

TEST(SmoothRotationTest, a_candidate_that_leaves_is_skipped_and_the_rest_keep_their_ratio) {
  SmoothRotation r;
  const std::vector<Candidate> all = {{"a", 2}, {"b", 1}, {"c", 1}};
  for (int i = 0; i < 7; ++i)
    r.next(all);
  const std::vector<Candidate> two = {{"a", 2}, {"b", 1}};
  std::map<std::string_view, int> got;
  for (int i = 0; i < 300; ++i)
    ++got[two[*r.next(two)].id];
  // The state carried from before the change shifts the count by at most one draw.
  EXPECT_NEAR(got["a"], 200, 1);
  EXPECT_NEAR(got["b"], 100, 1);
  EXPECT_EQ(got["a"] + got["b"], 300);
}

std::vector<Candidate> candidates(const std::vector<std::string>& names, std::uint32_t w = 1) {
  std::vector<Candidate> out;
  for (const auto& n : names)
    out.push_back({n, w});
  return out;
}

TEST(RendezvousTest, removing_an_egress_moves_only_its_keys) {
  const auto names = ids(10);
  const auto all = candidates(names);
  std::vector<std::size_t> before(1000);
  std::map<std::size_t, int> load;
  for (int k = 0; k < 1000; ++k) {
    before[k] = *rendezvous("session-" + std::to_string(k), all);
    ++load[before[k]];
  }
  // Spread: every egress gets a fair share (expected 100 each).
  for (std::size_t i = 0; i < 10; ++i)
    EXPECT_GT(load[i], 60) << names[i];
  // Egress 3 leaves: its keys move, every other key stays, key by key.
  std::vector<Candidate> without = all;
  without.erase(without.begin() + 3);
  int moved = 0;
  for (int k = 0; k < 1000; ++k) {
    const std::size_t now = *rendezvous("session-" + std::to_string(k), without);
    const std::string_view id = without[now].id;
    if (before[k] == 3) {
      ++moved;
      EXPECT_NE(id, names[3]);
    } else {
      EXPECT_EQ(id, names[before[k]]) << "key " << k << " moved";
    }
  }
  EXPECT_EQ(moved, load[3]);
  // The order of the candidates does not matter.
  std::vector<Candidate> reversed(all.rbegin(), all.rend());
  for (int k = 0; k < 100; ++k)
    EXPECT_EQ(reversed[*rendezvous("session-" + std::to_string(k), reversed)].id, names[before[k]]);
}

TEST(RendezvousTest, doubling_one_weight_moves_only_keys_onto_it) {
  const auto names = ids(10);
  auto c = candidates(names);
  std::vector<std::size_t> before(2000);
  for (int k = 0; k < 2000; ++k)
    before[k] = *rendezvous(std::to_string(k), c);
  c[0].weight = 2;
  int onto = 0;
  for (int k = 0; k < 2000; ++k) {
    const std::size_t now = *rendezvous(std::to_string(k), c);
    if (now != before[k]) {
      EXPECT_EQ(now, 0U) << "a key moved between two unchanged egresses";
      ++onto;
    }
  }
  // Egress 0 goes from 1/10 to 2/11 of the keys: about 164 more of 2,000.
  EXPECT_GT(onto, 100);
  EXPECT_LT(onto, 240);
  // Weight 0 takes nothing.
  c[0].weight = 0;
  for (int k = 0; k < 500; ++k)
    EXPECT_NE(*rendezvous(std::to_string(k), c), 0U);
  EXPECT_FALSE(rendezvous("k", std::vector<Candidate>{{"a", 0}}).has_value());
}

TEST(SplitSessionTest, a_session_part_keys_the_session_and_the_rest_authenticates) {
  EXPECT_EQ(split_session("alice-session-abc123").user, "alice");
  EXPECT_EQ(split_session("alice-session-abc123").session, "abc123");
  EXPECT_EQ(split_session("a-b-session-x-session-y").user, "a-b-session-x");
  EXPECT_EQ(split_session("a-b-session-x-session-y").session, "y");
  for (const char* plain : {"alice", "alice-session-", "-session-abc", ""}) {
    EXPECT_EQ(split_session(plain).user, plain);
    EXPECT_TRUE(split_session(plain).session.empty()) << plain;
  }
}

}  // namespace
