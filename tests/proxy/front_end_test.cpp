// The socks, http and mixed front ends in process (so they run under the sanitizers too):
// every client protocol to a loopback backend through source egresses, the refusal each
// protocol gets, client authentication, handshake timeouts and hostile input.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "client.hpp"
#include "loopback_backend.hpp"
#include "proxy_under_test.hpp"
#include "tests/support/child_process.hpp"

namespace ipm::proxy::test {
namespace {

using namespace std::chrono_literals;

pool::Egress source(const std::string& ip) {
  pool::Egress e;
  e.ip = ip;
  e.kind = pool::EgressKind::source;
  e.family = ip.find(':') == std::string::npos ? pool::Family::ipv4 : pool::Family::ipv6;
  return e;
}

config::AddressRule rule(const std::string& text) {
  std::string why;
  return *config::parse_address_rule(text, why);
}

std::string bytes(std::initializer_list<int> list) {
  std::string s;
  for (int b : list)
    s.push_back(static_cast<char>(b));
  return s;
}

std::string port_bytes(std::uint16_t port) {
  return bytes({port >> 8, port & 0xFF});
}

// A proxy whose only front end is `type`, over `egresses`, allowed to reach loopback.
std::unique_ptr<ProxyUnderTest> front_end(config::FrontEnd type, std::vector<pool::Egress> egresses,
                                          std::vector<config::ProxyUser> users = {},
                                          config::Millis handshake_timeout = 5s) {
  return std::make_unique<ProxyUnderTest>(std::move(egresses), [&](config::Config& c) {
    c.listen = {config::Listener{type, "127.0.0.1", 0, users}};
    c.allow_destinations = {rule("127.0.0.0/8")};
    c.handshake_timeout = handshake_timeout;
    c.dial_retries = 2;
  });
}

// Everything the server sends until it closes (bounded by the socket's 10 s timeout).
std::string answer(Fd& client) {
  return read_to_end(client).data;
}

TEST(FrontEndTest, socks5_socks4_and_http_reach_the_backend_from_the_source_address) {
  LoopbackBackend backend(BackendMode::echo);
  auto proxy = front_end(config::FrontEnd::mixed, {source("127.0.1.21")});
  const std::string to = port_bytes(backend.port());
  {  // SOCKS5: method, then CONNECT 127.0.0.1; the reply carries the real bound address.
    Fd c = connect_to(proxy->port());
    ASSERT_TRUE(write_all(c, bytes({5, 1, 0}) + bytes({5, 1, 0, 1, 127, 0, 0, 1}) + to));
    EXPECT_EQ(read_exactly(c, 2), bytes({5, 0}));
    const std::string reply = read_exactly(c, 10);
    EXPECT_EQ(reply.substr(0, 8), bytes({5, 0, 0, 1, 127, 0, 1, 21}));
    EXPECT_NE(reply.substr(8, 2), bytes({0, 0}));  // the port connect(2) picked
    ASSERT_TRUE(write_all(c, "ping5"));
    EXPECT_EQ(read_exactly(c, 5), "ping5");
  }
  {  // SOCKS4a: a domain after the user id.
    Fd c = connect_to(proxy->port());
    ASSERT_TRUE(write_all(c, bytes({4, 1}) + to + bytes({0, 0, 0, 1}) + "me" + bytes({0}) +
                                 "localhost" + bytes({0}) + "ping4"));
    const std::string reply = read_exactly(c, 8);
    EXPECT_EQ(reply.substr(0, 2), bytes({0, 90}));
    EXPECT_EQ(reply.substr(4, 4), bytes({127, 0, 1, 21}));
    EXPECT_EQ(read_exactly(c, 5), "ping4");  // sent with the request: relayed after it
  }
  {  // HTTP CONNECT
    Fd c = connect_to(proxy->port());
    ASSERT_TRUE(write_all(
        c, "CONNECT 127.0.0.1:" + std::to_string(backend.port()) + " HTTP/1.1\r\nHost: x\r\n\r\n"));
    const std::string head = "HTTP/1.1 200 Connection established\r\n\r\n";
    EXPECT_EQ(read_exactly(c, head.size()), head);
    ASSERT_TRUE(write_all(c, "pingH"));
    EXPECT_EQ(read_exactly(c, 5), "pingH");
  }
  const auto decisions = proxy->wait_for_decisions(3);
  ASSERT_EQ(decisions.size(), 3U);
  for (const auto& d : decisions) {
    EXPECT_EQ(d.egress.ip, "127.0.1.21");
    EXPECT_EQ(d.front_end, config::FrontEnd::mixed);
    EXPECT_THAT(d.destination, testing::EndsWith(":" + std::to_string(backend.port())));
  }
  EXPECT_EQ(proxy->metric("ipmanager_proxy_handshakes_total",
                          {{"front_end", "mixed"}, {"protocol", "socks4"}}),
            1);
}

TEST(FrontEndTest, an_absolute_uri_request_is_forwarded_in_origin_form) {
  LoopbackBackend backend(BackendMode::exchange, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  auto proxy = front_end(config::FrontEnd::http, {source("127.0.1.22")});
  Fd c = connect_to(proxy->port());
  ASSERT_TRUE(write_all(c, "GET http://127.0.0.1:" + std::to_string(backend.port()) +
                               "/path?q=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nProxy-Connection: "
                               "keep-alive\r\n\r\n"));
  shutdown_write(c);
  EXPECT_THAT(answer(c), testing::EndsWith("\r\n\r\nok"));
  const auto records = backend.wait_for_records(1);
  ASSERT_EQ(records.size(), 1U);
  EXPECT_THAT(records[0].received, testing::StartsWith("GET /path?q=1 HTTP/1.1\r\n"));
  EXPECT_THAT(records[0].received, testing::Not(testing::HasSubstr("Proxy-Connection")));
  EXPECT_THAT(records[0].received, testing::HasSubstr("Connection: close"));
}

TEST(FrontEndTest, each_refusal_gets_its_protocols_reply) {
  RefusingPort closed;
  auto proxy = front_end(config::FrontEnd::mixed, {source("127.0.1.23")});
  const auto socks5 = [&](const std::string& request) {
    Fd c = connect_to(proxy->port());
    EXPECT_TRUE(write_all(c, bytes({5, 1, 0}) + request));
    return answer(c);
  };
  // Not allowed (2): link-local, before any dial.
  EXPECT_EQ(socks5(bytes({5, 1, 0, 1, 169, 254, 169, 254, 0, 80})),
            bytes({5, 0, 5, 2, 0, 1, 0, 0, 0, 0, 0, 0}));
  // Connection refused (5) by the destination.
  EXPECT_EQ(socks5(bytes({5, 1, 0, 1, 127, 0, 0, 1}) + port_bytes(closed.port())).substr(0, 4),
            bytes({5, 0, 5, 5}));
  // Command not supported (7): BIND; address type not supported (8).
  EXPECT_EQ(socks5(bytes({5, 2, 0, 1, 127, 0, 0, 1, 0, 80})).substr(0, 4), bytes({5, 0, 5, 7}));
  EXPECT_EQ(socks5(bytes({5, 1, 0, 7, 127, 0, 0, 1, 0, 80})).substr(0, 4), bytes({5, 0, 5, 8}));
  // An IPv6 destination with only IPv4 egresses: address type not supported (8).
  EXPECT_EQ(
      socks5(bytes({5, 1, 0, 4, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 80}))
          .substr(0, 4),
      bytes({5, 0, 5, 8}));
  // A name that does not resolve: host unreachable (4).
  const std::string name = "nowhere.invalid";
  EXPECT_EQ(socks5(bytes({5, 1, 0, 3, static_cast<int>(name.size())}) + name + bytes({0, 80}))
                .substr(0, 4),
            bytes({5, 0, 5, 4}));
  {  // SOCKS4: 91 for every refusal.
    Fd c = connect_to(proxy->port());
    ASSERT_TRUE(write_all(c, bytes({4, 1, 0, 80, 169, 254, 1, 1, 0})));
    EXPECT_EQ(answer(c).substr(0, 2), bytes({0, 91}));
  }
  {  // HTTP: 403 not allowed, 502 refused.
    Fd c = connect_to(proxy->port());
    ASSERT_TRUE(write_all(c, "CONNECT 169.254.1.1:80 HTTP/1.1\r\n\r\n"));
    EXPECT_THAT(answer(c), testing::StartsWith("HTTP/1.1 403 "));
    Fd d = connect_to(proxy->port());
    ASSERT_TRUE(
        write_all(d, "CONNECT 127.0.0.1:" + std::to_string(closed.port()) + " HTTP/1.1\r\n\r\n"));
    EXPECT_THAT(answer(d), testing::StartsWith("HTTP/1.1 502 "));
  }
  EXPECT_EQ(proxy->metric("ipmanager_proxy_refusals_total",
                          {{"front_end", "mixed"}, {"reason", "not_allowed"}}),
            3);
}

TEST(FrontEndTest, a_failed_bind_fails_over_before_the_client_hears_anything) {
  LoopbackBackend backend(BackendMode::echo);
  auto proxy = front_end(config::FrontEnd::socks, {source("192.0.2.1"), source("127.0.1.24")});
  for (int i = 0; i < 4; ++i) {
    Fd c = connect_to(proxy->port());
    ASSERT_TRUE(write_all(
        c, bytes({5, 1, 0}) + bytes({5, 1, 0, 1, 127, 0, 0, 1}) + port_bytes(backend.port())));
    EXPECT_EQ(read_exactly(c, 12).substr(0, 8), bytes({5, 0, 5, 0, 0, 1, 127, 0}));
    ASSERT_TRUE(write_all(c, "x"));
    EXPECT_EQ(read_exactly(c, 1), "x");
  }
  // The round-robin source keeps no health and advances once per pick (a connection's first
  // pick and its failover pick), so with two egresses every connection starts on the dead one.
  // It is tried once per connection, never again after it failed, and nothing reached the
  // backend from it: each connection made exactly two tries and left from 127.0.1.24.
  const auto decisions = proxy->wait_for_decisions(4);
  ASSERT_EQ(decisions.size(), 4U);
  for (const pool::Decision& d : decisions) {
    EXPECT_EQ(d.tries, 2U);
    EXPECT_EQ(d.egress.ip, "127.0.1.24");
  }
  EXPECT_EQ(proxy->source.tally("192.0.2.1", 0).picked, 4U);
  EXPECT_EQ(proxy->source.tally("192.0.2.1", 0).dials_failed, 4U);
  EXPECT_EQ(proxy->source.tally("127.0.1.24", 0).dials_ok, 4U);
  EXPECT_EQ(proxy->metric("ipmanager_proxy_egress_dials_total",
                          {{"front_end", "socks"}, {"kind", "source"}, {"result", "bind_failed"}}),
            4);
}

TEST(FrontEndTest, users_must_authenticate) {
  LoopbackBackend backend(BackendMode::echo);
  auto proxy = front_end(config::FrontEnd::mixed, {source("127.0.1.25")}, {{"alice", "s3cret"}});
  const std::string connect = bytes({5, 1, 0, 1, 127, 0, 0, 1}) + port_bytes(backend.port());
  {  // No method we accept offered: 0xFF.
    Fd c = connect_to(proxy->port());
    ASSERT_TRUE(write_all(c, bytes({5, 1, 0})));
    EXPECT_EQ(answer(c), bytes({5, 0xFF}));
  }
  {  // Wrong password: RFC 1929 status 1.
    Fd c = connect_to(proxy->port());
    ASSERT_TRUE(write_all(c, bytes({5, 1, 2}) + bytes({1, 5}) + "alice" + bytes({5}) + "wrong"));
    EXPECT_EQ(answer(c), bytes({5, 2, 1, 1}));
  }
  {  // Right: through.
    Fd c = connect_to(proxy->port());
    ASSERT_TRUE(
        write_all(c, bytes({5, 1, 2}) + bytes({1, 5}) + "alice" + bytes({6}) + "s3cret" + connect));
    EXPECT_EQ(read_exactly(c, 4), bytes({5, 2, 1, 0}));
    EXPECT_EQ(read_exactly(c, 10).substr(0, 2), bytes({5, 0}));
  }
  {  // HTTP without credentials: 407 with a challenge.
    Fd c = connect_to(proxy->port());
    ASSERT_TRUE(write_all(c, "CONNECT 127.0.0.1:80 HTTP/1.1\r\n\r\n"));
    const std::string a = answer(c);
    EXPECT_THAT(a, testing::StartsWith("HTTP/1.1 407 "));
    EXPECT_THAT(a, testing::HasSubstr("Proxy-Authenticate: Basic"));
  }
  const auto decisions = proxy->wait_for_decisions(4);
  EXPECT_TRUE(std::any_of(decisions.begin(), decisions.end(),
                          [](const pool::Decision& d) { return d.username == "alice"; }));
}

TEST(FrontEndTest, stalled_and_hostile_clients_are_cut_and_hurt_no_one) {
  LoopbackBackend backend(BackendMode::echo);
  auto proxy = front_end(config::FrontEnd::mixed, {source("127.0.1.26")}, {}, 300ms);
  const int fds_before = open_fd_count();
  {  // Silent, then half a request: both cut at the handshake timeout.
    Fd silent = connect_to(proxy->port());
    Fd half = connect_to(proxy->port());
    ASSERT_TRUE(write_all(half, bytes({5, 1, 0, 5, 1})));
    EXPECT_EQ(answer(silent), "");
    EXPECT_EQ(answer(half), bytes({5, 0}));
  }
  EXPECT_EQ(proxy->metric("ipmanager_proxy_handshake_failures_total",
                          {{"front_end", "mixed"}, {"reason", "timeout"}}),
            2);
  // Random bytes, and truncated handshakes that close mid-way.
  for (std::uint32_t seed = 0; seed < 100; ++seed) {
    Fd c = connect_to(proxy->port());
    write_all(c, random_bytes(1 + seed * 7 % 700, seed));
    shutdown_write(c);
    read_to_end(c);
  }
  for (const std::string& part : {bytes({5}), bytes({5, 1, 0, 5, 1, 0, 3, 200}), bytes({4, 1, 0}),
                                  std::string("CONNECT 127.0.0.1:80 HTTP/1.1\r\nHost")}) {
    Fd c = connect_to(proxy->port());
    write_all(c, part);
  }
  // Oversized: a SOCKS4a name over 255 bytes; a request head over the buffer.
  {
    Fd c = connect_to(proxy->port());
    ASSERT_TRUE(
        write_all(c, bytes({4, 1, 0, 80, 0, 0, 0, 1, 0}) + std::string(300, 'a') + bytes({0})));
    EXPECT_EQ(answer(c).substr(0, 2), bytes({0, 91}));
  }
  {
    Fd c = connect_to(proxy->port());
    write_all(c, "CONNECT " + std::string(9000, 'a'));
    EXPECT_THAT(answer(c), testing::AnyOf(testing::StartsWith("HTTP/1.1 4"), testing::Eq("")));
  }
  // A well-behaved client is still served, and every descriptor came back.
  Fd c = connect_to(proxy->port());
  ASSERT_TRUE(write_all(
      c, bytes({5, 1, 0}) + bytes({5, 1, 0, 1, 127, 0, 0, 1}) + port_bytes(backend.port()) + "ok"));
  EXPECT_EQ(read_exactly(c, 12).substr(0, 2), bytes({5, 0}));
  EXPECT_EQ(read_exactly(c, 2), "ok");
  c.reset();
  EXPECT_TRUE(ipm::test::wait_until([&] { return proxy->server->active_connections() == 0; }, 10s));
  EXPECT_EQ(open_fd_count(), fds_before);
}

// Gateway mode's transparent front end, reached directly instead of through a redirect rule:
// the connection's original destination is the listener itself (or, where conntrack keeps no
// record on this host, there is none). Either way it must never be dialled: a FIN, counted.
TEST(FrontEndTest, a_client_connecting_to_the_redirect_front_end_itself_is_refused_not_dialled) {
  LoopbackBackend backend(BackendMode::echo);
  auto proxy = front_end(config::FrontEnd::redirect, {source("127.0.1.27")});
  Fd c = connect_to(proxy->port());
  ASSERT_TRUE(write_all(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(answer(c), "");
  const auto decisions = proxy->wait_for_decisions(1);
  ASSERT_EQ(decisions.size(), 1U);
  EXPECT_EQ(decisions[0].front_end, config::FrontEnd::redirect);
  EXPECT_EQ(decisions[0].tries, 0U);
  EXPECT_EQ(decisions[0].end, pool::ConnectionEnd::refused);
  const double loop = proxy->metric("ipmanager_proxy_refusals_total",
                                    {{"front_end", "redirect"}, {"reason", "loop"}});
  const double untracked =
      proxy->metric("ipmanager_proxy_refusals_total",
                    {{"front_end", "redirect"}, {"reason", "no_original_destination"}});
  EXPECT_EQ(loop + untracked, 1);
  if (loop == 1) {  // conntrack recorded it: the listener's own address and port
    EXPECT_EQ(decisions[0].destination, "127.0.0.1:" + std::to_string(proxy->port()));
  }
  EXPECT_EQ(proxy->metric("ipmanager_proxy_egress_dials_total",
                          {{"front_end", "redirect"}, {"kind", "source"}, {"result", "ok"}}),
            0);
}

}  // namespace
}  // namespace ipm::proxy::test
