#include "proxy/relay.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <functional>
#include <thread>

#include "client.hpp"
#include "loopback_backend.hpp"
#include "proxy_under_test.hpp"

namespace ipm::proxy::test {
namespace {

using pool::ConnectionEnd;

// Every relay test runs twice: copying through the relay's buffers, and with proxy_splice on,
// where bulk bursts go through pipes with splice(2).
class RelayTest : public ::testing::TestWithParam<bool> {
 protected:
  std::function<void(config::Config&)> splice_setting() const {
    return [splice = GetParam()](config::Config& c) { c.proxy_splice = splice; };
  }
};

TEST_P(RelayTest, large_random_payloads_cross_both_ways_byte_for_byte) {
  const std::string down = random_bytes(24 << 20, 1);  // egress -> client
  const std::string up = random_bytes(24 << 20, 2);    // client -> egress
  LoopbackBackend backend(BackendMode::exchange, down);
  ProxyUnderTest proxy({egress_at(backend.port())}, splice_setting());

  Fd client = connect_to(proxy.port());
  std::thread writer([&] {
    EXPECT_TRUE(write_all(client, up));
    shutdown_write(client);
  });
  const ReadResult got = read_to_end(client);
  writer.join();

  EXPECT_EQ(got.error, 0);
  EXPECT_EQ(got.data.size(), down.size());
  EXPECT_TRUE(got.data == down) << "payload egress -> client differs";
  const auto records = backend.wait_for_records(1);
  ASSERT_EQ(records.size(), 1U);
  EXPECT_TRUE(records[0].clean_eof);
  EXPECT_EQ(records[0].received.size(), up.size());
  EXPECT_TRUE(records[0].received == up) << "payload client -> egress differs";

  const auto decisions = proxy.wait_for_decisions(1);
  ASSERT_EQ(decisions.size(), 1U);
  EXPECT_EQ(decisions[0].end, ConnectionEnd::closed);
  EXPECT_EQ(decisions[0].bytes_up, up.size());
  EXPECT_EQ(decisions[0].bytes_down, down.size());
  EXPECT_EQ(decisions[0].egress.port, backend.port());
  EXPECT_EQ(decisions[0].tries, 1U);
  EXPECT_THAT(decisions[0].client, ::testing::MatchesRegex(R"(127\.0\.0\.1:[0-9]+)"));
  EXPECT_EQ(proxy.metric("ipmanager_proxy_relayed_bytes_total", {{"direction", "up"}}),
            static_cast<double>(up.size()));
  EXPECT_EQ(proxy.metric("ipmanager_proxy_connections_total", {{"result", "closed"}}), 1.0);
  const double spliced = proxy.metric("ipmanager_proxy_spliced_bytes_total");
  if (GetParam())
    EXPECT_GT(spliced, static_cast<double>(up.size())) << "bulk bursts go through pipes";
  else
    EXPECT_EQ(spliced, 0.0);
}

TEST_P(RelayTest, client_half_close_still_receives_the_whole_answer) {
  // The client sends its request, shuts down writing, then reads the whole answer.
  const std::string request = random_bytes(3 << 20, 3);
  LoopbackBackend backend(BackendMode::echo);
  ProxyUnderTest proxy({egress_at(backend.port())}, splice_setting());

  Fd client = connect_to(proxy.port());
  std::thread writer([&] {
    EXPECT_TRUE(write_all(client, request));
    shutdown_write(client);
  });
  const ReadResult got = read_to_end(client);
  writer.join();
  EXPECT_EQ(got.error, 0);
  EXPECT_TRUE(got.data == request);
  EXPECT_EQ(proxy.wait_for_decisions(1).at(0).end, ConnectionEnd::closed);
}

TEST_P(RelayTest, request_and_eof_sent_together_get_the_whole_answer_and_eof) {
  // The request and the FIN arrive together, often before the proxy reads anything (a client
  // such as `printf ... | nc`): the whole answer and the EOF still come back.
  LoopbackBackend backend(BackendMode::echo);
  ProxyUnderTest proxy({egress_at(backend.port())}, splice_setting());
  for (int i = 0; i < 20; ++i) {
    const std::string request = random_bytes(100 + i, 10 + i);
    Fd client = connect_to(proxy.port());
    ASSERT_TRUE(write_all(client, request));
    shutdown_write(client);
    const ReadResult got = read_to_end(client);
    EXPECT_EQ(got.error, 0) << "try " << i;
    EXPECT_EQ(got.data, request) << "try " << i;
  }
  EXPECT_EQ(proxy.wait_for_decisions(20).size(), 20U);
}

TEST_P(RelayTest, egress_half_close_lets_the_client_keep_sending) {
  // The egress answers first and shuts down writing; the client's upload goes on after that.
  const std::string answer = random_bytes(1000, 4);
  const std::string upload = random_bytes(4 << 20, 5);
  LoopbackBackend backend(BackendMode::exchange, answer);
  ProxyUnderTest proxy({egress_at(backend.port())}, splice_setting());

  Fd client = connect_to(proxy.port());
  EXPECT_EQ(read_exactly(client, answer.size()), answer);
  ASSERT_TRUE(readable_within(client, 5000));
  char byte = 0;
  EXPECT_EQ(::recv(client.get(), &byte, 1, 0), 0) << "EOF from the egress reaches the client";
  EXPECT_TRUE(write_all(client, upload));
  shutdown_write(client);
  const auto records = backend.wait_for_records(1);
  ASSERT_EQ(records.size(), 1U);
  EXPECT_TRUE(records[0].received == upload);
  EXPECT_EQ(proxy.wait_for_decisions(1).at(0).end, ConnectionEnd::closed);
}

TEST_P(RelayTest, client_reset_mid_transfer_resets_the_egress) {
  LoopbackBackend backend(BackendMode::sink);
  backend.open_gate();
  ProxyUnderTest proxy({egress_at(backend.port())}, splice_setting());

  Fd client = connect_to(proxy.port());
  ASSERT_TRUE(write_all(client, random_bytes(1 << 20, 6)));
  reset(client);
  const auto records = backend.wait_for_records(1);
  ASSERT_EQ(records.size(), 1U);
  EXPECT_FALSE(records[0].clean_eof) << "the egress must see an aborted stream, not an end";
  EXPECT_EQ(proxy.wait_for_decisions(1).at(0).end, ConnectionEnd::client_reset);
}

TEST_P(RelayTest, egress_reset_mid_transfer_resets_the_client) {
  LoopbackBackend backend(BackendMode::reset_after, {}, 64 << 10);
  ProxyUnderTest proxy({egress_at(backend.port())}, splice_setting());

  Fd client = connect_to(proxy.port());
  // Keeps sending until the reset comes back; the send fails (EPIPE/ECONNRESET) or the read does.
  const std::string chunk = random_bytes(64 << 10, 7);
  bool failed = false;
  for (int i = 0; i < 1000 && !failed; ++i)
    failed = !write_all(client, chunk);
  const ReadResult got = read_to_end(client);
  EXPECT_TRUE(failed || got.error == ECONNRESET);
  EXPECT_EQ(proxy.wait_for_decisions(1).at(0).end, ConnectionEnd::egress_reset);
}

TEST_P(RelayTest, peer_that_stops_reading_stops_the_sender_without_buffering) {
  LoopbackBackend backend(BackendMode::sink);  // does not read until the gate opens
  ProxyUnderTest proxy({egress_at(backend.port())}, splice_setting());

  Fd client = connect_to(proxy.port());
  timeval short_timeout{0, 300000};
  ::setsockopt(client.get(), SOL_SOCKET, SO_SNDTIMEO, &short_timeout, sizeof short_timeout);
  const std::string chunk = random_bytes(64 << 10, 8);
  std::uint64_t sent = 0;
  constexpr std::uint64_t kLimit = 512ULL << 20;
  while (sent < kLimit) {
    const ssize_t n = ::send(client.get(), chunk.data(), chunk.size(), MSG_NOSIGNAL);
    if (n <= 0)
      break;  // blocked for 300 ms: back-pressure reached the client
    sent += static_cast<std::uint64_t>(n);
  }
  // Only kernel socket buffers (a few MB each on loopback) and one relay buffer hold data.
  EXPECT_LT(sent, 64ULL << 20) << "the proxy buffers what the egress does not read";

  backend.open_gate();
  client.reset();
  const auto records = backend.wait_for_records(1);
  ASSERT_EQ(records.size(), 1U);
  EXPECT_EQ(records[0].bytes_received, sent) << "every byte sent arrives once the peer reads";
}

INSTANTIATE_TEST_SUITE_P(CopyAndSplice, RelayTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& param) {
                           return param.param ? "splice" : "copy";
                         });

}  // namespace
}  // namespace ipm::proxy::test
