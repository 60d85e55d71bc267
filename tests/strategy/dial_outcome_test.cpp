// What each dial result and upstream reply code means for the egress's health.
#include <gtest/gtest.h>

#include "strategy/outcome.hpp"

namespace {

using ipm::config::UpstreamProtocol;
using ipm::pool::DialOutcome;
using ipm::pool::DialResult;
using ipm::pool::EgressKind;
using ipm::strategy::Outcome;

struct Case {
  EgressKind kind;
  DialResult result;
  UpstreamProtocol protocol;
  int code;
  Outcome expected;
  const char* why;
};

class DialOutcomeTest : public testing::TestWithParam<Case> {};

TEST_P(DialOutcomeTest, classifies) {
  const Case& c = GetParam();
  DialOutcome d;
  d.kind = c.kind;
  d.result = c.result;
  d.protocol = c.protocol;
  d.upstream_code = c.code;
  EXPECT_EQ(ipm::strategy::classify(d), c.expected) << c.why;
}

constexpr auto S5 = UpstreamProtocol::socks5;
constexpr auto S4 = UpstreamProtocol::socks4;
constexpr auto H = UpstreamProtocol::http;

INSTANTIATE_TEST_SUITE_P(
    Table, DialOutcomeTest,
    testing::Values(
        // nginx: a dial reaches the local nginx and says nothing about the IP.
        Case{EgressKind::nginx, DialResult::ok, S5, -1, Outcome::neutral, "nginx ok"},
        Case{EgressKind::nginx, DialResult::refused, S5, -1, Outcome::failure, "nginx refused"},
        // source: the connect goes to the destination itself.
        Case{EgressKind::source, DialResult::ok, S5, -1, Outcome::success, "connected"},
        Case{EgressKind::source, DialResult::refused, S5, -1, Outcome::neutral,
             "the destination's RST"},
        Case{EgressKind::source, DialResult::bind_failed, S5, -1, Outcome::failure, "address gone"},
        Case{EgressKind::source, DialResult::unreachable, S5, -1, Outcome::failure, "no route"},
        Case{EgressKind::source, DialResult::timeout, S5, -1, Outcome::failure, "timeout"},
        // upstream: a connect goes to the upstream proxy.
        Case{EgressKind::upstream, DialResult::ok, S5, -1, Outcome::success, "tunnel up"},
        Case{EgressKind::upstream, DialResult::refused, S5, -1, Outcome::failure, "upstream down"},
        Case{EgressKind::upstream, DialResult::upstream_error, S5, -1, Outcome::failure,
             "credentials refused or protocol broken"},
        Case{EgressKind::upstream, DialResult::upstream_refused, S5, 1, Outcome::failure,
             "SOCKS5 general failure"},
        Case{EgressKind::upstream, DialResult::upstream_refused, S5, 2, Outcome::neutral,
             "SOCKS5 not allowed by its ruleset"},
        Case{EgressKind::upstream, DialResult::upstream_refused, S5, 3, Outcome::failure,
             "SOCKS5 network unreachable"},
        Case{EgressKind::upstream, DialResult::upstream_refused, S5, 4, Outcome::neutral,
             "SOCKS5 host unreachable"},
        Case{EgressKind::upstream, DialResult::upstream_refused, S5, 5, Outcome::neutral,
             "SOCKS5 connection refused"},
        Case{EgressKind::upstream, DialResult::upstream_refused, S5, 6, Outcome::failure,
             "SOCKS5 TTL expired"},
        Case{EgressKind::upstream, DialResult::upstream_refused, S4, 91, Outcome::neutral,
             "SOCKS4 rejected (its only code)"},
        Case{EgressKind::upstream, DialResult::upstream_refused, S4, 92, Outcome::failure,
             "SOCKS4 identd unreachable"},
        Case{EgressKind::upstream, DialResult::upstream_refused, H, 502, Outcome::neutral,
             "HTTP bad gateway"},
        Case{EgressKind::upstream, DialResult::upstream_refused, H, 504, Outcome::neutral,
             "HTTP gateway timeout"},
        Case{EgressKind::upstream, DialResult::upstream_refused, H, 407, Outcome::failure,
             "HTTP wants other credentials"},
        Case{EgressKind::upstream, DialResult::upstream_refused, H, 503, Outcome::failure,
             "HTTP upstream unavailable"}));

}  // namespace

namespace {

// An active check's destination is the operator's known-good target: anything but a made
// connection (and, for HTTP, a 2xx/3xx answer) is the egress's failure, even what would be
// the destination's doing for a client.
TEST(CheckOutcomeTest, only_a_passed_check_is_a_success) {
  for (const EgressKind kind : {EgressKind::source, EgressKind::upstream}) {
    for (std::size_t r = 0; r < ipm::pool::kDialResultCount; ++r) {
      DialOutcome d;
      d.kind = kind;
      d.check = true;
      d.result = static_cast<DialResult>(r);
      d.upstream_code = 5;  // SOCKS5 "refused": neutral for a client, not for a check
      EXPECT_EQ(ipm::strategy::classify(d),
                d.result == DialResult::ok ? Outcome::success : Outcome::failure)
          << to_string(d.result);
    }
  }
}

}  // namespace
