// The dial timeout and the relay limits on injected time: no socket traffic, no sleeps.
#include "proxy/relay_watch.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "proxy/dial_watch.hpp"

namespace ipm::proxy::test {
namespace {

using namespace std::chrono_literals;
using pool::ConnectionEnd;
using Clock = std::chrono::steady_clock;

const Clock::time_point t0 = Clock::time_point{} + 1h;

TEST(RelayVerdictTest, idle_closing_and_lifetime_limits) {
  const RelayLimits limits{10s, 2s, 60s};
  struct Case {
    RelayTimes times;
    Clock::duration at;  // after t0
    std::optional<ConnectionEnd> expected;
  };
  const Case cases[] = {
      {{t0, t0, false}, 9s, std::nullopt},
      {{t0, t0, false}, 10s, ConnectionEnd::idle_timeout},
      {{t0, t0 + 5s, false}, 14s, std::nullopt},  // a byte at 5 s restarts the idle clock
      {{t0, t0 + 5s, false}, 15s, ConnectionEnd::idle_timeout},
      {{t0, t0, true}, 1s, std::nullopt},  // half-closed: min(idle, closing) = 2 s
      {{t0, t0, true}, 2s, ConnectionEnd::idle_timeout},
      {{t0, t0 + 59s, false}, 60s, ConnectionEnd::lifetime},  // busy, but its life is over
  };
  for (const Case& c : cases)
    EXPECT_EQ(relay_verdict(limits, c.times, t0 + c.at), c.expected)
        << "at " << std::chrono::duration_cast<std::chrono::seconds>(c.at).count() << " s";
}

TEST(RelayVerdictTest, zero_limits_are_no_limits) {
  const RelayTimes times{t0, t0, true};
  EXPECT_EQ(relay_deadline(RelayLimits{0s, 0s, 0s}, times), Clock::time_point::max());
  EXPECT_EQ(relay_verdict(RelayLimits{0s, 0s, 0s}, times, t0 + 1000h), std::nullopt);
  EXPECT_EQ(relay_deadline(RelayLimits{0s, 3s, 0s}, times), t0 + 3s) << "closing alone";
  EXPECT_EQ(relay_deadline(RelayLimits{0s, 3s, 0s}, RelayTimes{t0, t0, false}),
            Clock::time_point::max())
      << "closing applies only once half-closed";
  EXPECT_EQ(relay_deadline(RelayLimits{5s, 30s, 0s}, times), t0 + 5s)
      << "a closing limit longer than idle does not extend it";
}

// Connections as the watches see them; sockets are never opened.
struct Connections {
  boost::asio::io_context ctx;
  std::vector<std::unique_ptr<Connection>> all;
  ConnectionList list;

  Connection& add() {
    all.push_back(std::make_unique<Connection>(boost::asio::ip::tcp::socket(ctx)));
    list.push_back(*all.back());
    return *all.back();
  }
};

TEST(RelayWatchTest, check_cuts_only_relays_past_their_deadline) {
  Connections cs;
  RelayWatch watch(cs.ctx.get_executor(), RelayLimits{10s, 2s, 0s}, cs.list);
  Connection& idle = cs.add();
  Connection& busy = cs.add();
  Connection& dialing = cs.add();  // not relaying yet: the dial timeout is its limit
  for (Connection* c : {&idle, &busy, &dialing}) {
    c->accepted = t0;
    c->last_activity = t0;
  }
  idle.relaying = busy.relaying = true;
  watch.started();
  watch.started();
  busy.last_activity = t0 + 8s;

  watch.check(t0 + 9s);
  EXPECT_FALSE(idle.aborted());
  watch.check(t0 + 10s);
  EXPECT_EQ(idle.aborted(), ConnectionEnd::idle_timeout);
  EXPECT_FALSE(busy.aborted());
  EXPECT_FALSE(dialing.aborted());
  busy.directions_done = 1;  // half-closed at 8 s: cut 2 s after its last byte
  watch.check(t0 + 10s);
  EXPECT_EQ(busy.aborted(), ConnectionEnd::idle_timeout);
  EXPECT_FALSE(dialing.aborted());
  watch.ended();
  watch.ended();
  watch.stop();
}

TEST(DialWatchTest, dials_expire_in_order_at_their_own_deadline) {
  Connections cs;
  DialWatch watch(cs.ctx.get_executor(), config::Millis{300});
  Connection& a = cs.add();
  Connection& b = cs.add();
  Connection& c = cs.add();
  watch.watch(a, t0);
  watch.watch(b, t0 + 100ms);
  watch.watch(c, t0 + 200ms);

  watch.check(t0 + 299ms);
  EXPECT_FALSE(a.dial_expired);
  watch.check(t0 + 300ms);
  EXPECT_TRUE(a.dial_expired);
  EXPECT_FALSE(b.dial_expired);
  watch.unwatch(b);  // connected in time
  watch.check(t0 + 1s);
  EXPECT_FALSE(b.dial_expired);
  EXPECT_TRUE(c.dial_expired);
  watch.unwatch(a);  // harmless once expired
  watch.stop();
}

}  // namespace
}  // namespace ipm::proxy::test
