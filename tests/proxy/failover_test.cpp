#include "proxy/dialer.hpp"

#include <gtest/gtest.h>

#include <chrono>

#include "client.hpp"
#include "loopback_backend.hpp"
#include "proxy_under_test.hpp"

namespace ipm::proxy::test {
namespace {

using pool::ConnectionEnd;

// One echo round trip through the proxy; true when the bytes came back.
bool echo_once(std::uint16_t port, const std::string& payload) {
  Fd client = connect_to(port);
  if (!write_all(client, payload))
    return false;
  return read_exactly(client, payload.size()) == payload;
}

TEST(FailoverTest, closed_and_black_holed_egresses_are_skipped_and_reported) {
  RefusingPort closed;
  BlackHole hole;
  LoopbackBackend good(BackendMode::echo);
  ProxyUnderTest proxy({egress_at(closed.port()), egress_at(hole.port()), egress_at(good.port())});

  constexpr int kConnections = 6;
  for (int i = 0; i < kConnections; ++i)
    EXPECT_TRUE(echo_once(proxy.port(), "hello " + std::to_string(i)));

  EXPECT_GT(proxy.source.tally("127.0.0.1", closed.port()).dials_failed, 0U);
  EXPECT_GT(proxy.source.tally("127.0.0.1", hole.port()).dials_failed, 0U);
  EXPECT_EQ(proxy.source.tally("127.0.0.1", good.port()).dials_ok, kConnections);
  EXPECT_GT(proxy.metric("ipmanager_proxy_dial_failures_total", {{"kind", "refused"}}), 0.0);
  EXPECT_GT(proxy.metric("ipmanager_proxy_dial_failures_total", {{"kind", "timeout"}}), 0.0);

  const auto decisions = proxy.wait_for_decisions(kConnections);
  ASSERT_EQ(decisions.size(), static_cast<std::size_t>(kConnections));
  bool some_retried = false;
  for (const auto& d : decisions) {
    EXPECT_EQ(d.egress.port, good.port());
    EXPECT_EQ(d.end, ConnectionEnd::closed);
    EXPECT_LE(d.tries, 3U) << "each bad egress at most once, then the good one";
    some_retried = some_retried || d.tries > 1;
  }
  EXPECT_TRUE(some_retried);
}

TEST(FailoverTest, exhausted_budget_closes_the_client_cleanly_without_bytes) {
  RefusingPort a;
  RefusingPort b;
  ProxyUnderTest proxy({egress_at(a.port()), egress_at(b.port())},
                       [](config::Config& c) { c.dial_retries = 5; });

  Fd client = connect_to(proxy.port());
  ASSERT_TRUE(write_all(client, "GET / HTTP/1.0\r\n\r\n"));
  const ReadResult got = read_to_end(client);
  EXPECT_EQ(got.error, 0) << "a FIN, not a reset";
  EXPECT_EQ(got.data, "") << "no invented bytes (the Go tool wrote a 502 here)";

  const auto d = proxy.wait_for_decisions(1).at(0);
  EXPECT_EQ(d.end, ConnectionEnd::dial_failed);
  EXPECT_EQ(d.tries, 2U) << "each IP tried once, then the pool is exhausted";
  EXPECT_EQ(proxy.source.tally("127.0.0.1", a.port()).dials_failed, 1U);
  EXPECT_EQ(proxy.source.tally("127.0.0.1", b.port()).dials_failed, 1U);
}

TEST(FailoverTest, retry_budget_bounds_the_tries) {
  RefusingPort p1, p2, p3, p4;
  ProxyUnderTest proxy(
      {egress_at(p1.port()), egress_at(p2.port()), egress_at(p3.port()), egress_at(p4.port())},
      [](config::Config& c) { c.dial_retries = 1; });
  Fd client = connect_to(proxy.port());
  EXPECT_EQ(read_to_end(client).data, "");
  EXPECT_EQ(proxy.wait_for_decisions(1).at(0).tries, 2U);
}

TEST(FailoverTest, empty_pool_closes_the_client_with_no_egress) {
  ProxyUnderTest proxy({});
  Fd client = connect_to(proxy.port());
  const ReadResult got = read_to_end(client);
  EXPECT_EQ(got.error, 0);
  EXPECT_EQ(got.data, "");
  const auto d = proxy.wait_for_decisions(1).at(0);
  EXPECT_EQ(d.end, ConnectionEnd::no_egress);
  EXPECT_EQ(d.tries, 0U);
}

TEST(FailoverTest, fix_port_sends_every_connection_to_next_fix_port) {
  RefusingPort pool_port;
  LoopbackBackend debug_target(BackendMode::echo);
  ProxyUnderTest proxy({egress_at(pool_port.port())},
                       [&](config::Config& c) { c.fix_port = debug_target.port(); });
  EXPECT_TRUE(echo_once(proxy.port(), "via fix_port"));
  EXPECT_EQ(proxy.wait_for_decisions(1).at(0).egress.port, debug_target.port());
  EXPECT_EQ(proxy.source.tally("127.0.0.1", pool_port.port()).dials_failed, 0U);
}

TEST(DialErrorTest, local_errors_are_not_the_egress_fault) {
  using boost::system::errc::errc_t;
  // As Asio reports them: system_category codes.
  const auto code = [](errc_t e) {
    return boost::system::error_code(static_cast<int>(e), boost::system::system_category());
  };
  EXPECT_EQ(classify_dial_error(code(errc_t::connection_refused)), DialFailure::refused);
  EXPECT_EQ(classify_dial_error(code(errc_t::timed_out)), DialFailure::timeout);
  EXPECT_EQ(classify_dial_error(code(errc_t::host_unreachable)), DialFailure::unreachable);
  EXPECT_EQ(classify_dial_error(code(errc_t::network_unreachable)), DialFailure::unreachable);
  EXPECT_EQ(classify_dial_error(code(errc_t::too_many_files_open)), DialFailure::local);
  EXPECT_EQ(classify_dial_error(code(errc_t::address_not_available)), DialFailure::local);
  EXPECT_EQ(classify_dial_error(code(errc_t::connection_reset)), DialFailure::error);
}

}  // namespace
}  // namespace ipm::proxy::test
