// What each dial result and upstream reply code means for health, and whose failure it is:
// the egress's, or the (egress, destination site) pair's.
#include <gtest/gtest.h>

#include "strategy/outcome.hpp"

namespace {

using ipm::config::UpstreamProtocol;
using ipm::pool::DialOutcome;
using ipm::pool::DialResult;
using ipm::pool::EgressKind;
using ipm::strategy::Outcome;

using ipm::strategy::Blame;

struct Case {
  EgressKind kind;
  DialResult result;
  UpstreamProtocol protocol;
  int code;
  Outcome expected;
  Blame blame;
  const char* why;
};

class DialOutcomeTest : public testing::TestWithParam<Case> {};

TEST_P(DialOutcomeTest, classifies_and_blames) {
  const Case& c = GetParam();
  DialOutcome d;
  d.kind = c.kind;
  d.result = c.result;
  d.protocol = c.protocol;
  d.upstream_code = c.code;
  EXPECT_EQ(ipm::strategy::classify(d), c.expected) << c.why;
  EXPECT_EQ(ipm::strategy::blame(d), c.blame) << c.why;
}

constexpr auto S5 = UpstreamProtocol::socks5;
constexpr auto S4 = UpstreamProtocol::socks4;
constexpr auto H = UpstreamProtocol::http;
constexpr auto kOk = Outcome::success;
constexpr auto kNeutral = Outcome::neutral;
constexpr auto kFailed = Outcome::failure;
constexpr auto kEgress = Blame::egress;
constexpr auto kSite = Blame::site;
constexpr auto kRefusal = DialResult::upstream_refused;

INSTANTIATE_TEST_SUITE_P(
    Table, DialOutcomeTest,
    testing::Values(
        // nginx: a dial reaches the local nginx and says nothing about the IP.
        Case{EgressKind::nginx, DialResult::ok, S5, -1, kNeutral, kEgress, "nginx ok"},
        Case{EgressKind::nginx, DialResult::refused, S5, -1, kFailed, kEgress, "nginx refused"},
        // source: the connect goes to the destination itself.
        Case{EgressKind::source, DialResult::ok, S5, -1, kOk, kEgress, "connected"},
        Case{EgressKind::source, DialResult::refused, S5, -1, kFailed, kSite,
             "the destination's RST"},
        Case{EgressKind::source, DialResult::bind_failed, S5, -1, kFailed, kEgress, "address gone"},
        Case{EgressKind::source, DialResult::unreachable, S5, -1, kFailed, kEgress, "no route"},
        Case{EgressKind::source, DialResult::timeout, S5, -1, kFailed, kEgress, "timeout"},
        // upstream: a connect goes to the upstream proxy.
        Case{EgressKind::upstream, DialResult::ok, S5, -1, kOk, kEgress, "tunnel up"},
        Case{EgressKind::upstream, DialResult::refused, S5, -1, kFailed, kEgress, "upstream down"},
        Case{EgressKind::upstream, DialResult::timeout, S5, -1, kFailed, kEgress,
             "upstream silent"},
        Case{EgressKind::upstream, DialResult::upstream_error, S5, -1, kFailed, kEgress,
             "credentials refused or protocol broken"},
        // The upstream's reply codes (RFC 1928, SOCKS4, HTTP).
        Case{EgressKind::upstream, kRefusal, S5, 0x01, kFailed, kEgress, "SOCKS5 general failure"},
        Case{EgressKind::upstream, kRefusal, S5, 0x02, kFailed, kSite,
             "SOCKS5 not allowed by its ruleset"},
        Case{EgressKind::upstream, kRefusal, S5, 0x03, kFailed, kEgress,
             "SOCKS5 network unreachable (its own network)"},
        Case{EgressKind::upstream, kRefusal, S5, 0x04, kFailed, kSite, "SOCKS5 host unreachable"},
        Case{EgressKind::upstream, kRefusal, S5, 0x05, kFailed, kSite, "SOCKS5 connection refused"},
        Case{EgressKind::upstream, kRefusal, S5, 0x06, kFailed, kSite, "SOCKS5 TTL expired"},
        Case{EgressKind::upstream, kRefusal, S5, 0x07, kFailed, kEgress,
             "SOCKS5 command not supported"},
        Case{EgressKind::upstream, kRefusal, S5, 0x08, kFailed, kEgress,
             "SOCKS5 address type not supported"},
        Case{EgressKind::upstream, kRefusal, S5, 0x5B, kFailed, kEgress,
             "a SOCKS4 code from a SOCKS5 upstream"},
        Case{EgressKind::upstream, kRefusal, S4, 0x5B, kFailed, kSite,
             "SOCKS4 rejected or failed (its only word)"},
        Case{EgressKind::upstream, kRefusal, S4, 0x5C, kFailed, kEgress,
             "SOCKS4 identd unreachable"},
        Case{EgressKind::upstream, kRefusal, S4, 0x5D, kFailed, kEgress, "SOCKS4 identd differs"},
        Case{EgressKind::upstream, kRefusal, H, 403, kFailed, kSite, "HTTP forbidden (its ACL)"},
        Case{EgressKind::upstream, kRefusal, H, 502, kFailed, kSite, "HTTP bad gateway"},
        Case{EgressKind::upstream, kRefusal, H, 503, kFailed, kSite,
             "HTTP unavailable (Squid's connect failure)"},
        Case{EgressKind::upstream, kRefusal, H, 504, kFailed, kSite, "HTTP gateway timeout"},
        Case{EgressKind::upstream, kRefusal, H, 407, kFailed, kEgress,
             "HTTP wants other credentials"},
        Case{EgressKind::upstream, kRefusal, H, 500, kFailed, kEgress, "HTTP internal error"},
        Case{EgressKind::upstream, kRefusal, H, 0x02, kFailed, kEgress,
             "a SOCKS5 code from an HTTP upstream"}));

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
      EXPECT_EQ(ipm::strategy::blame(d), Blame::egress) << to_string(d.result);
    }
  }
}

}  // namespace
