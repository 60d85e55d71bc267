#include "proxy/server.hpp"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <stdexcept>
#include <thread>

#include "client.hpp"
#include "loopback_backend.hpp"
#include "proxy_under_test.hpp"

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

  Fd c = connect_to(proxy.port());  // completes in the kernel backlog
  ASSERT_TRUE(write_all(c, "c"));
  EXPECT_FALSE(readable_within(c, 300)) << "served beyond max_connections";
  EXPECT_EQ(proxy.server->active_connections(), 2U);
  EXPECT_GE(proxy.metric("ipmanager_proxy_accept_paused_total"), 1.0);

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
  const auto started = SteadyClock::now();
  read_to_end(client);
  EXPECT_LT(SteadyClock::now() - started, 9s) << "closing phase ended by close_timeout";
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

  proxy.server->stop(10s);
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
  const auto started = SteadyClock::now();
  proxy.server->wait();
  EXPECT_LT(SteadyClock::now() - started, 9s) << "wait() returns when the last one ends";
  EXPECT_EQ(proxy.wait_for_decisions(1).at(0).end, ConnectionEnd::closed);
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

int highest_open_fd() {
  int highest = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd"))
    highest = std::max(highest, std::stoi(entry.path().filename().string()));
  return highest;
}

TEST(LimitsTest, out_of_fds_backs_off_and_recovers_when_fds_free_up) {
  LoopbackBackend backend(BackendMode::echo);
  ProxyUnderTest proxy({egress_at(backend.port())}, [](config::Config& c) { c.proxy_threads = 1; });
  Fd client = new_socket();  // made while descriptors are still available

  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
  rlimit low = saved;
  low.rlim_cur = static_cast<rlim_t>(highest_open_fd() + 16);
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
  std::vector<Fd> fillers;
  for (;;) {  // bounded by the low limit
    Fd f(::dup(0));
    if (!f)
      break;
    fillers.push_back(std::move(f));
  }
  ASSERT_EQ(errno, EMFILE);

  connect_socket(client, proxy.port());  // the kernel completes it; accept() gets EMFILE
  ASSERT_TRUE(write_all(client, "hi"));
  const bool backed_off = eventually([&] {
    return proxy.metric("ipmanager_proxy_accept_errors_total", {{"kind", "fd_limit"}});
  });
  EXPECT_FALSE(readable_within(client, 300));
  const double errors_in_a_while =
      proxy.metric("ipmanager_proxy_accept_errors_total", {{"kind", "fd_limit"}});

  fillers.clear();
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &saved), 0);
  EXPECT_TRUE(backed_off);
  // 10 ms doubling backoff: a handful of retries in ~0.3 s, not a busy loop.
  EXPECT_LT(errors_in_a_while, 20.0);
  EXPECT_EQ(read_exactly(client, 2), "hi")
      << "the proxy recovers once fds are free; decisions " << proxy.decisions.total() << ", open "
      << proxy.server->active_connections() << ", backend accepted " << backend.accepted()
      << ", accept errors "
      << proxy.metric("ipmanager_proxy_accept_errors_total", {{"kind", "fd_limit"}});
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
