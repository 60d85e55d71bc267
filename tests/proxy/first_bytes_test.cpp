// The client's first bytes are read before the dial and sent by the dialer (see
// Connection::read_first_bytes). These tests make that deterministic: the proxy is held at a
// cap of one connection, so a second client's bytes, EOF or reset are in the kernel before
// the proxy accepts it.
#include "proxy/connection.hpp"

#include <gtest/gtest.h>

#include <functional>

#include "client.hpp"
#include "loopback_backend.hpp"
#include "proxy_under_test.hpp"

namespace ipm::proxy::test {
namespace {

using pool::ConnectionEnd;

void hold_at_cap(config::Config& c) {
  c.proxy_threads = 1;
  c.max_connections = 1;
  c.dial_retries = 3;
}

// Connects a client while another connection holds the proxy's only slot, lets `before_accept`
// act on it, then frees the slot so the proxy accepts the client.
Fd connect_while_held(const ProxyUnderTest& proxy, const std::function<void(Fd&)>& before_accept) {
  Fd holder = connect_to(proxy.port());
  EXPECT_TRUE(write_all(holder, "hold"));
  EXPECT_EQ(read_exactly(holder, 4), "hold") << "the holder must be relaying (echo egress)";
  Fd client = connect_to(proxy.port());  // completes in the kernel's accept queue
  before_accept(client);
  return client;  // `holder` closes here: the slot frees and `client` is accepted
}

TEST(FirstBytesTest, bytes_sent_before_a_refused_dial_reach_the_next_egress_once) {
  RefusingPort refused;
  LoopbackBackend echo(BackendMode::echo);
  // Round robin over [refused, echo]: the holder takes refused then echo, the client the same.
  ProxyUnderTest proxy({egress_at(refused.port()), egress_at(echo.port())}, hold_at_cap);

  // More than the 4 KB first-bytes buffer: the rest is read by the relay.
  const std::string request = random_bytes(10000, 11);
  Fd client = connect_while_held(proxy, [&](Fd& c) { ASSERT_TRUE(write_all(c, request)); });
  EXPECT_TRUE(read_exactly(client, request.size()) == request) << "lost or repeated bytes";
  shutdown_write(client);
  EXPECT_EQ(read_to_end(client).data, "");

  const auto decisions = proxy.wait_for_decisions(2);
  ASSERT_EQ(decisions.size(), 2U);
  const pool::Decision& d = decisions[0];  // newest: the client's
  EXPECT_EQ(d.tries, 2U) << "the refused egress first, with the bytes already read";
  EXPECT_EQ(d.egress.port, echo.port());
  EXPECT_EQ(d.end, ConnectionEnd::closed);
  EXPECT_EQ(d.bytes_up, request.size());
  EXPECT_EQ(d.bytes_down, request.size());
  EXPECT_EQ(proxy.source.tally("127.0.0.1", refused.port()).dials_failed, 2U);
}

TEST(FirstBytesTest, client_that_only_sent_eof_gets_the_egress_eof_back) {
  LoopbackBackend echo(BackendMode::echo);
  ProxyUnderTest proxy({egress_at(echo.port())}, hold_at_cap);

  Fd client = connect_while_held(proxy, [](Fd& c) { shutdown_write(c); });
  const ReadResult got = read_to_end(client);
  EXPECT_EQ(got.error, 0);
  EXPECT_EQ(got.data, "");

  const auto records = echo.wait_for_records(2);
  ASSERT_EQ(records.size(), 2U);
  EXPECT_TRUE(records[1].clean_eof) << "the EOF was relayed to the egress";
  EXPECT_EQ(records[1].bytes_received, 0U);
  const auto d = proxy.wait_for_decisions(2).at(0);
  EXPECT_EQ(d.end, ConnectionEnd::closed);
  EXPECT_EQ(d.bytes_up, 0U);
}

TEST(FirstBytesTest, client_reset_before_accept_is_not_dialled) {
  LoopbackBackend echo(BackendMode::echo);
  ProxyUnderTest proxy({egress_at(echo.port())}, hold_at_cap);

  // Without bytes: bytes sent before a reset are still read (and relayed) first.
  connect_while_held(proxy, [](Fd& c) { reset(c); });

  const auto decisions = proxy.wait_for_decisions(2);
  ASSERT_EQ(decisions.size(), 2U);
  EXPECT_EQ(decisions[0].end, ConnectionEnd::client_reset);
  EXPECT_EQ(decisions[0].tries, 0U) << "no egress dialled for a client that is gone";
  EXPECT_EQ(echo.accepted(), 1U) << "only the holder reached the egress";
  EXPECT_EQ(proxy.source.tally("127.0.0.1", echo.port()).dials_failed, 0U);
}

}  // namespace
}  // namespace ipm::proxy::test
