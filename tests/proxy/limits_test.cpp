#include "proxy/server.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <future>
#include <iostream>
#include <stdexcept>
#include <thread>

#include "client.hpp"
#include "loopback_backend.hpp"
#include "proxy/accept_backoff.hpp"
#include "proxy_under_test.hpp"
#include "tests/support/descriptors.hpp"

namespace ipm::proxy::test {
namespace {

using namespace std::chrono_literals;
using pool::ConnectionEnd;
using SteadyClock = std::chrono::steady_clock;

bool echo_on(const Fd& client, const std::string& payload) {
  return write_all(client, payload) && read_exactly(client, payload.size()) == payload;
}

// Polls `done` every 10 ms for at most 10 s.
template <class F>
bool eventually(F done) {
  for (int i = 0; i < 1000; ++i) {
    if (done())
      return true;
    std::this_thread::sleep_for(10ms);
  }
  return done();
}

TEST(LimitsTest, accepting_pauses_at_the_connection_cap_and_resumes) {
  LoopbackBackend backend(BackendMode::echo);
  ProxyUnderTest proxy({egress_at(backend.port())}, [](config::Config& c) {
    c.proxy_threads = 1;
    c.max_connections = 2;
  });
  Fd a = connect_to(proxy.port());
  Fd b = connect_to(proxy.port());
  ASSERT_TRUE(echo_on(a, "a"));
  ASSERT_TRUE(echo_on(b, "b"));

  const auto pauses = [&] { return proxy.metric("ipmanager_proxy_accept_paused_total"); };
  ASSERT_TRUE(eventually([&] { return pauses() >= 1; }));
  Fd c = connect_to(proxy.port());  // completes in the kernel backlog
  ASSERT_TRUE(write_all(c, "c"));
  // The paused loop looks again now and then (a safety net): once it has, and paused again,
  // the third client has waited through a check that would have let it in.
  const double seen = pauses();
  ASSERT_TRUE(eventually([&] { return pauses() > seen; }));
  EXPECT_FALSE(readable_within(c, 0)) << "served beyond max_connections";
  EXPECT_EQ(backend.accepted(), 2U);
  EXPECT_EQ(proxy.server->active_connections(), 2U);

  a.reset();
  EXPECT_EQ(read_exactly(c, 1), "c") << "accepting resumes when a slot frees up";
}

TEST(LimitsTest, idle_connection_is_cut_after_idle_timeout) {
  LoopbackBackend backend(BackendMode::echo);
  ProxyUnderTest proxy({egress_at(backend.port())},
                       [](config::Config& c) { c.idle_timeout = 200ms; });
  Fd client = connect_to(proxy.port());
  ASSERT_TRUE(echo_on(client, "ping"));
  const ReadResult got = read_to_end(client);  // bounded by the 10 s receive timeout
  EXPECT_EQ(got.error, ECONNRESET) << "the cut is a reset, not a clean end";
  EXPECT_EQ(proxy.wait_for_decisions(1).at(0).end, ConnectionEnd::idle_timeout);
}

TEST(LimitsTest, half_closed_connection_is_cut_after_close_timeout) {
  LoopbackBackend backend(BackendMode::sink);  // never answers, never closes (gate shut)
  ProxyUnderTest proxy({egress_at(backend.port())}, [](config::Config& c) {
    c.idle_timeout = 60s;
    c.close_timeout = 200ms;
  });
  Fd client = connect_to(proxy.port());
  shutdown_write(client);
  // Read to the end within the client's 10 s timeout: only close_timeout (not the 60 s idle
  // limit, nor the sink, which never closes) can end it, with a reset.
  EXPECT_EQ(read_to_end(client).error, ECONNRESET) << "closing phase ended by close_timeout";
  EXPECT_EQ(proxy.wait_for_decisions(1).at(0).end, ConnectionEnd::idle_timeout);
  backend.open_gate();
}

TEST(LimitsTest, max_connection_timeout_bounds_the_lifetime) {
  LoopbackBackend backend(BackendMode::echo);
  ProxyUnderTest proxy({egress_at(backend.port())}, [](config::Config& c) {
    c.idle_timeout = 60s;
    c.max_connection_timeout = 300ms;
  });
  Fd client = connect_to(proxy.port());
  ASSERT_TRUE(echo_on(client, "x"));
  EXPECT_EQ(read_to_end(client).error, ECONNRESET);
  EXPECT_EQ(proxy.wait_for_decisions(1).at(0).end, ConnectionEnd::lifetime);
}

TEST(LimitsTest, drain_stops_accepting_and_lets_open_connections_finish) {
  LoopbackBackend backend(BackendMode::echo);
  ProxyUnderTest proxy({egress_at(backend.port())});
  Fd client = connect_to(proxy.port());
  ASSERT_TRUE(echo_on(client, "before"));

  proxy.server->stop(60s);
  EXPECT_TRUE(eventually([&] {
    try {
      connect_to(proxy.port());
      return false;
    } catch (const std::runtime_error&) {
      return true;  // refused: the listeners are closed
    }
  }));
  EXPECT_TRUE(echo_on(client, "during drain"));
  client.reset();
  // The connection ends by itself (closed, not cut by the 60 s drain), and then wait()
  // returns: the drain does not sit out its timeout.
  EXPECT_EQ(proxy.wait_for_decisions(1).at(0).end, ConnectionEnd::closed);
  auto waited = std::async(std::launch::async, [&] { proxy.server->wait(); });
  EXPECT_EQ(waited.wait_for(30s), std::future_status::ready)
      << "wait() returns when the last one ends";
}

TEST(LimitsTest, drain_timeout_cuts_what_is_still_open) {
  LoopbackBackend backend(BackendMode::echo);
  ProxyUnderTest proxy({egress_at(backend.port())});
  Fd client = connect_to(proxy.port());
  ASSERT_TRUE(echo_on(client, "x"));
  proxy.server->stop(200ms);
  proxy.server->wait();
  EXPECT_EQ(read_to_end(client).error, ECONNRESET);
  EXPECT_EQ(proxy.wait_for_decisions(1).at(0).end, ConnectionEnd::shutdown);
}

// How many accepts fail in a row before the retry wait reaches its cap.
int failures_until_the_backoff_cap() {
  int failures = 1;
  for (auto wait = AcceptBackoff::kFirst; wait < AcceptBackoff::kCap; wait *= 2)
    ++failures;
  return failures;
}

TEST(LimitsTest, out_of_fds_for_seconds_the_worker_idles_serves_its_sessions_and_recovers) {
  LoopbackBackend backend(BackendMode::echo);
  ProxyUnderTest proxy({egress_at(backend.port())}, [](config::Config& c) { c.proxy_threads = 1; });
  const auto fd_limit_errors = [&] {
    return proxy.metric("ipmanager_proxy_accept_errors_total", {{"kind", "fd_limit"}});
  };
  Fd held = connect_to(proxy.port());  // a session on the only worker, open throughout
  ASSERT_TRUE(echo_on(held, "before"));
  Fd waiting = new_socket();  // made while descriptors are still available
  const ipm::test::ProcessCpuTime cpu;

  ipm::test::OutOfDescriptors out;
  ASSERT_TRUE(out.exhausted());
  connect_socket(waiting, proxy.port());  // the kernel completes it; accept() gets EMFILE
  ASSERT_TRUE(write_all(waiting, "hi"));
  ASSERT_TRUE(eventually([&] { return fd_limit_errors() >= failures_until_the_backoff_cap(); }))
      << "accept failures so far: " << fd_limit_errors();

  // Held past the backoff cap: the loop waits between tries instead of spinning, and the
  // worker keeps relaying for the sessions it has.
  const auto cpu_before = cpu.used();
  const double errors_before = fd_limit_errors();
  std::this_thread::sleep_for(2s);
  EXPECT_TRUE(echo_on(held, "during")) << "a session on the same worker progresses";
  std::this_thread::sleep_for(2s);
  const auto cpu_over_hold = cpu.used() - cpu_before;
  const double retries_over_hold = fd_limit_errors() - errors_before;
  EXPECT_LT(cpu_over_hold, 400ms) << "CPU time over a 4 s hold out of descriptors";
  EXPECT_LE(retries_over_hold, 12.0) << "about one retry per second at the cap";
  EXPECT_FALSE(readable_within(waiting, 0));

  // The session ends: the descriptors it gives back let the waiting client in, while the
  // process is still at its limit.
  shutdown_write(held);
  EXPECT_EQ(read_to_end(held).data, "");
  held.reset();
  const auto freed = SteadyClock::now();
  EXPECT_EQ(read_exactly(waiting, 2), "hi") << "the waiting client takes the freed descriptors";
  const auto recovery =
      std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - freed);
  EXPECT_EQ(proxy.wait_for_decisions(1).at(0).end, ConnectionEnd::closed);

  out.give_back();
  waiting.reset();
  Fd fresh = connect_to(proxy.port());
  EXPECT_TRUE(echo_on(fresh, "after")) << "new clients are proxied once descriptors are free";
  std::cerr << "out of descriptors for 4 s past the backoff cap: " << cpu_over_hold.count()
            << " ms CPU, " << retries_over_hold << " accept retries; waiting client proxied "
            << recovery.count() << " ms after a session freed its descriptors\n";
}

TEST(LimitsTest, out_of_fds_at_the_dial_the_client_waits_and_the_egress_is_not_blamed) {
  LoopbackBackend backend(BackendMode::echo);
  ProxyUnderTest proxy({egress_at(backend.port())}, [](config::Config& c) {
    c.proxy_threads = 1;
    c.dial_timeout = 30s;  // the wait for descriptors is bounded by one dial timeout
  });
  const auto local_failures = [&] {
    return proxy.metric("ipmanager_proxy_dial_failures_total", {{"kind", "local"}});
  };
  Fd client = new_socket();
  ipm::test::OutOfDescriptors out;
  ASSERT_TRUE(out.exhausted());
  connect_socket(client, proxy.port());
  ASSERT_TRUE(write_all(client, "hi"));
  ASSERT_TRUE(eventually([&] {
    return proxy.metric("ipmanager_proxy_accept_errors_total", {{"kind", "fd_limit"}}) >= 1;
  }));
  out.give_back(1);  // enough to accept the client, none left to dial with
  ASSERT_TRUE(eventually([&] { return local_failures() >= 1; }));
  EXPECT_FALSE(readable_within(client, 0)) << "the client waits, it is not dropped";

  out.give_back();
  EXPECT_EQ(read_exactly(client, 2), "hi") << "dialled once descriptors are back";
  shutdown_write(client);
  EXPECT_EQ(read_to_end(client).data, "");
  const auto d = proxy.wait_for_decisions(1).at(0);
  EXPECT_EQ(d.end, ConnectionEnd::closed);
  EXPECT_EQ(d.tries, 1U) << "the same egress, dialled again";
  const auto tally = proxy.source.tally("127.0.0.1", backend.port());
  EXPECT_EQ(tally.dials_failed, 0U) << "the proxy's own shortage is not the egress's failure";
  EXPECT_EQ(tally.dials_ok, 1U);
  EXPECT_EQ(tally.picked, 1U);
}

TEST(LimitsTest, a_dial_cut_by_the_drain_gives_its_pick_back) {
  BlackHole hole;  // the dial hangs until the drain cuts it
  ProxyUnderTest proxy({egress_at(hole.port())}, [](config::Config& c) { c.dial_timeout = 60s; });
  Fd client = connect_to(proxy.port());
  ASSERT_TRUE(eventually([&] { return proxy.source.tally("127.0.0.1", hole.port()).picked == 1; }));
  proxy.server->stop(0ms);
  proxy.server->wait();
  EXPECT_EQ(proxy.wait_for_decisions(1).at(0).end, ConnectionEnd::shutdown);
  const auto tally = proxy.source.tally("127.0.0.1", hole.port());
  EXPECT_EQ(tally.abandoned, 1U) << "every pick is reported or abandoned";
  EXPECT_EQ(tally.dials_failed, 0U);
}

TEST(LimitsTest, tens_of_thousands_of_connections_leak_no_fd) {
  LoopbackBackend backend(BackendMode::echo);
  ProxyUnderTest proxy({egress_at(backend.port())});
  const int baseline = open_fd_count();

  constexpr int kConnections = 20000;
  for (int i = 0; i < kConnections; ++i) {
    Fd client = connect_to(proxy.port());
    ASSERT_TRUE(echo_on(client, "x")) << "connection " << i;
  }
  EXPECT_EQ(proxy.wait_for_decisions(kConnections).size(), static_cast<std::size_t>(kConnections));
  EXPECT_TRUE(eventually([&] {
    return proxy.server->active_connections() == 0 && backend.active() == 0 &&
           open_fd_count() == baseline;
  })) << "fds now "
      << open_fd_count() << ", at start " << baseline;
  EXPECT_EQ(proxy.metric("ipmanager_proxy_connections_total", {{"result", "closed"}}),
            static_cast<double>(kConnections));
}

}  // namespace
}  // namespace ipm::proxy::test
