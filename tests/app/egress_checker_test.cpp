// Active checks through source and upstream egresses, against real parts (a loopback HTTP
// target that answers with the address the connection came from, a listener the test opens
// and closes, a listener that never answers, microsocks as an upstream) and the real strategy
// engine, on the test's own clock: each check runs when the test says it is due.
#include "app/egress_checker.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include "app/check_metrics.hpp"
#include "app/check_schedule.hpp"
#include "app/egresses.hpp"
#include "config/load.hpp"
#include "proxy/interfaces.hpp"
#include "proxy/resolver.hpp"
#include "strategy/shared_engine.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/counter_value.hpp"
#include "tests/support/whoami_server.hpp"

namespace {

namespace asio = boost::asio;
using ipm::pool::IpState;
using ipm::test::ChildProcess;
using ipm::test::SpawnOptions;
using namespace std::chrono_literals;

// A listening socket on 127.0.0.1 that the test opens and closes on the same port. It never
// accepts: a connect succeeds (the kernel's backlog) and a request gets no answer.
class Listener {
 public:
  Listener() { open(0); }
  ~Listener() { close(); }
  std::uint16_t port() const { return port_; }
  void open(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int on = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    socklen_t len = sizeof a;
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(::listen(fd_, 64), 0);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  void close() {
    if (fd_ >= 0)
      ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

// The pool of `egresses` (YAML, each with its check) as the app wires it, and its checker.
class Checked {
 public:
  explicit Checked(const std::string& egresses)
      : config(ipm::config::load_text(
            "listen: [{type: mixed, port: 0}]\nconsecutive_failure: 2\n"
            "cool_down_min: 1m\ncool_down_jitter: 0\nmax_ejected_percent: 100\n"
            "egresses: " +
                egresses + "\n",
            "test.yaml", ipm::config::no_env())),
        selector(config.selection),
        pool(build(config)),
        engine(config, selector, pool, start),
        resolver(1),
        metrics(registry),
        checker(
            io.get_executor(), targets(), resolver, 500ms,
            [this](const ipm::pool::DialOutcome& o) {
              metrics.count(o);
              engine.apply(o);
            },
            start) {}

  /// Runs what is due at start + `at`; returns how many checks ran.
  std::size_t run(std::chrono::seconds at) {
    std::size_t ran = 0;
    engine.tick(start + at);
    asio::co_spawn(
        io, [&]() -> asio::awaitable<void> { ran = co_await checker.run_due(start + at); },
        [](std::exception_ptr e) {
          if (e)
            std::rethrow_exception(e);
        });
    io.restart();
    io.run();
    return ran;
  }

  IpState state(const std::string& id) {
    return engine.read([&](const ipm::strategy::Engine& e) {
      for (const auto& r : e.ips()) {
        if (r.egress.ip == id)
          return r.state;
      }
      ADD_FAILURE() << id << " is not in the pool";
      return IpState::banned;
    });
  }

  /// ipmanager_egress_checks_total{kind,result}; -1 when the series is missing.
  double checks(const std::string& kind, const std::string& result) {
    return ipm::test::counter_value(registry, "ipmanager_egress_checks_total",
                                    {{"kind", kind}, {"result", result}});
  }

  const ipm::pool::TimePoint start = ipm::pool::Clock::now();
  asio::io_context io;
  ipm::config::Config config;
  ipm::pool::Selector selector;
  std::vector<ipm::pool::Egress> pool;
  ipm::strategy::SharedEngine engine;
  ipm::proxy::Resolver resolver;
  prometheus::Registry registry;
  ipm::app::CheckMetrics metrics;
  ipm::app::EgressChecker checker;

  std::vector<ipm::app::CheckTarget> targets() const {
    std::vector<ipm::app::CheckTarget> out;
    for (std::size_t i = 0; i < config.egresses.size(); ++i)
      out.push_back({pool[i], *config.egresses[i].check, config.egresses[i].check_interval});
    return out;
  }

 private:
  static std::vector<ipm::pool::Egress> build(const ipm::config::Config& c) {
    std::vector<std::string> warnings;
    return ipm::app::build_egresses(c, ipm::proxy::interface_addresses(), warnings);
  }
};

TEST(CheckScheduleTest, first_runs_are_spread_then_each_keeps_its_interval) {
  const auto t0 = ipm::pool::Clock::now();
  ipm::app::CheckSchedule s({10s, 10s, 4s}, t0);
  EXPECT_THAT(s.due(t0), testing::ElementsAre(0U));
  EXPECT_EQ(s.next(), t0 + 2666ms);  // the third: 4 s x 2/3
  EXPECT_THAT(s.due(t0 + 3s), testing::ElementsAre(2U));
  EXPECT_THAT(s.due(t0 + 5s), testing::ElementsAre(1U));
  EXPECT_THAT(s.due(t0 + 6s), testing::IsEmpty());
  EXPECT_THAT(s.due(t0 + 7s), testing::ElementsAre(2U));
  // Late: everything overdue runs once, and each is next due an interval after this run.
  EXPECT_THAT(s.due(t0 + 60s), testing::ElementsAre(0U, 1U, 2U));
  EXPECT_EQ(s.next(), t0 + 64s);
  EXPECT_THAT(ipm::app::CheckSchedule({}, t0).due(t0), testing::IsEmpty());
}

TEST(EgressCheckerTest, failed_checks_cool_an_idle_egress_and_a_passed_one_ends_its_probation) {
  ipm::test::WhoAmIServer target;
  Listener flaky;
  const std::uint16_t flaky_port = flaky.port();
  flaky.close();  // refused from now on
  const std::string http = "http://127.0.0.1:" + std::to_string(target.port()) + "/health";
  Checked c("[{kind: source, address: 127.0.1.41, check_interval: 10s, check: \"" + http +
            "\"}, {kind: source, address: 127.0.1.42, check_interval: 10s, check: "
            "\"tcp://127.0.0.1:" +
            std::to_string(flaky_port) + "\"}]");
  EXPECT_EQ(c.run(0s), 1U);  // the first; the second is spread to 5 s
  EXPECT_EQ(c.run(5s), 1U);
  EXPECT_EQ(c.run(6s), 0U);
  EXPECT_EQ(c.run(10s), 1U);
  EXPECT_EQ(c.run(15s), 1U);
  // The HTTP check went through its egress; the refused one cooled after two failures.
  EXPECT_THAT(target.peers(), testing::ElementsAre("127.0.1.41", "127.0.1.41"));
  EXPECT_EQ(c.state("127.0.1.41"), IpState::available);
  EXPECT_EQ(c.state("127.0.1.42"), IpState::cooling);
  EXPECT_EQ(c.checks("source", "ok"), 2);
  EXPECT_EQ(c.checks("source", "refused"), 2);
  EXPECT_EQ(c.checks("upstream", "refused"), 0) << "every series there from the start";

  // Its target comes back; after the cooldown (1 min) the next check passes the probation.
  flaky.open(flaky_port);
  c.run(76s);
  EXPECT_EQ(c.state("127.0.1.42"), IpState::available);
}

TEST(EgressCheckerTest, an_upstream_is_checked_through_its_own_protocol) {
  ipm::test::WhoAmIServer target;
  const std::uint16_t port = ipm::test::free_tcp_port();
  ChildProcess microsocks(SpawnOptions{
      {"microsocks", "-i", "127.0.0.1", "-p", std::to_string(port), "-b", "127.0.1.43"},
      {},
      {},
      {}});
  ASSERT_TRUE(ipm::test::wait_for_tcp_port("127.0.0.1", port, 5s));
  // A name for the check's host: the upstream gets it as it is (SOCKS5 domain).
  Checked c("[{kind: upstream, host: 127.0.0.1, port: " + std::to_string(port) +
            ", check: \"http://localhost:" + std::to_string(target.port()) + "/\"}]");
  EXPECT_EQ(c.run(0s), 1U);
  EXPECT_THAT(target.peers(), testing::ElementsAre("127.0.1.43"));
  microsocks.stop();
  c.run(30s);
  c.run(60s);
  EXPECT_EQ(c.state("127.0.0.1:" + std::to_string(port)), IpState::cooling);
}

TEST(EgressCheckerTest, a_check_without_an_answer_times_out_and_fails) {
  Listener silent;  // accepts into its backlog, never answers
  Checked c("[{kind: source, address: 127.0.1.44, check: \"http://127.0.0.1:" +
            std::to_string(silent.port()) +
            "/\"}, {kind: source, address: 192.0.2.1, check: "
            "\"tcp://127.0.0.1:" +
            std::to_string(silent.port()) + "\"}]");
  // Both due at 30 s and 60 s (the second was spread to 15 s first).
  c.run(0s);
  c.run(15s);
  c.run(30s);
  c.run(45s);
  EXPECT_EQ(c.state("127.0.1.44"), IpState::cooling) << "no status line within the timeout";
  EXPECT_EQ(c.state("192.0.2.1"), IpState::cooling) << "its bind fails: on no interface";
  EXPECT_EQ(c.checks("source", "timeout"), 2);
  EXPECT_EQ(c.checks("source", "bind_failed"), 2);
}

TEST(EgressCheckerTest, new_targets_replace_the_running_ones_on_a_schedule_of_their_own) {
  ipm::test::WhoAmIServer target;
  Listener closed;
  const std::uint16_t closed_port = closed.port();
  closed.close();
  // http: a check ends once the target has answered, so it has recorded the peer by then.
  const std::string http = "http://127.0.0.1:" + std::to_string(target.port()) + "/";
  Checked c("[{kind: source, address: 127.0.1.45, check_interval: 10s, check: \"" + http +
            "\"}, {kind: source, address: 127.0.1.46, check_interval: 10s, check: \"" + http +
            "\"}]");
  EXPECT_EQ(c.run(0s), 1U);
  EXPECT_FALSE(c.checker.set_targets(c.targets(), c.start + 1s)) << "the same: nothing changes";
  EXPECT_EQ(c.run(5s), 1U) << "the running schedule kept";

  // A reload: 127.0.1.45's check now goes to a closed port every 4 s, 127.0.1.46 has none.
  auto next = c.targets();
  next.pop_back();
  next[0].check.port = closed_port;
  next[0].check.text = "http://127.0.0.1:" + std::to_string(closed_port) + "/";
  next[0].interval = 4s;
  EXPECT_TRUE(c.checker.set_targets(next, c.start + 6s));
  EXPECT_EQ(c.checker.size(), 1U);
  EXPECT_EQ(c.run(6s), 1U) << "the first of the new set runs at once";
  EXPECT_EQ(c.run(9s), 0U);
  EXPECT_EQ(c.run(10s), 1U);
  EXPECT_EQ(c.checks("source", "refused"), 2);
  EXPECT_EQ(c.state("127.0.1.45"), IpState::cooling);
  EXPECT_THAT(target.peers(), testing::ElementsAre("127.0.1.45", "127.0.1.46"))
      << "127.0.1.46 no longer checked";
}

TEST(CheckResultTest, an_http_check_answered_without_a_good_status_is_bad_status) {
  using ipm::pool::DialResult;
  const auto result = [](DialResult r, int code) {
    ipm::pool::DialOutcome o;
    o.result = r;
    o.upstream_code = code;
    o.check = true;
    return std::string(ipm::app::check_result(o));
  };
  EXPECT_EQ(result(DialResult::ok, 204), "ok");
  EXPECT_EQ(result(DialResult::other_error, 503), "bad_status");
  EXPECT_EQ(result(DialResult::other_error, 0), "bad_status") << "no status line";
  EXPECT_EQ(result(DialResult::other_error, -1), "error") << "the dial's own error";
  EXPECT_EQ(result(DialResult::upstream_refused, 5), "upstream_refused");
  EXPECT_EQ(result(DialResult::timeout, -1), "timeout");
}

}  // namespace
