// Source and upstream dials with failover, against real parts: loopback source addresses, an
// address on no interface, microsocks upstreams (one with a password, one killed), and the
// real strategy engine behind the PoolEgressSource the app wires, so each outcome is seen to
// move (or not move) the egress's health.
#include "proxy/egress_connector.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <memory>
#include <string>

#include "app/egresses.hpp"
#include "app/pool_egress_source.hpp"
#include "config/load.hpp"
#include "proxy/destination_policy.hpp"
#include "proxy/dial_watch.hpp"
#include "proxy/front_metrics.hpp"
#include "proxy/interfaces.hpp"
#include "proxy/resolver.hpp"
#include "strategy/shared_engine.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/counter_value.hpp"
#include "tests/support/whoami_server.hpp"

namespace {

namespace asio = boost::asio;
using ipm::pool::IpState;
using ipm::protocol::Destination;
using ipm::protocol::Refusal;
using ipm::proxy::EgressConnection;
using ipm::test::ChildProcess;
using ipm::test::SpawnOptions;
using namespace std::chrono_literals;

ipm::config::AddressRule rule(const std::string& text) {
  std::string why;
  return *ipm::config::parse_address_rule(text, why);
}

Destination loopback(std::uint16_t port) {
  return Destination::ipv4({127, 0, 0, 1}, port);
}

// The pool of `egresses` (YAML) as the app wires it, and a connector over it.
class Pool {
 public:
  explicit Pool(const std::string& egresses, std::uint32_t retries = 2)
      : config(ipm::config::load_text("listen: [{type: mixed, port: 0}]\nselection: round_robin\n"
                                      "consecutive_failure: 2\negresses: " +
                                          egresses + "\n",
                                      "test.yaml", ipm::config::no_env())),
        selector(config.selection),
        engine(config, selector, build(config), ipm::pool::Clock::now()),
        source(selector, engine),
        resolver(1),
        policy({rule("127.0.0.0/8")}, {}, {}),
        metrics(registry),
        connector(source, resolver, policy, metrics, retries) {}

  /// One request for `to`, run to its end; `c.egress` is left connected on success.
  EgressConnection connect(const Destination& to, std::unique_ptr<ipm::proxy::Connection>& c) {
    c = std::make_unique<ipm::proxy::Connection>(asio::ip::tcp::socket(io));
    EgressConnection result;
    ipm::proxy::DialWatch watch(io.get_executor(), 3s);
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          result = co_await connector.connect(*c, watch, to, {}, ipm::config::FrontEnd::socks);
          // The watch's timer stays armed for the next dial; disarm it so that run() returns
          // now, not at the 3 s dial timeout, by when the target has given up on the request.
          watch.stop();
        },
        [](std::exception_ptr e) {
          if (e)
            std::rethrow_exception(e);
        });
    io.restart();
    io.run();
    return result;
  }

  /// Sends a request through the connected egress and returns the body the target answered.
  std::string ask(ipm::proxy::Connection& c) {
    const std::string request = "GET / HTTP/1.0\r\n\r\n";
    asio::write(c.egress, asio::buffer(request));
    std::string answer;
    boost::system::error_code ec;
    asio::read(c.egress, asio::dynamic_buffer(answer), ec);
    return answer.substr(answer.find("\r\n\r\n") + 4);
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

  double dials(const std::string& kind, const std::string& result) {
    return ipm::test::counter_value(registry, "ipmanager_proxy_egress_dials_total",
                                    {{"front_end", "socks"}, {"kind", kind}, {"result", result}});
  }

  asio::io_context io;
  ipm::config::Config config;
  ipm::pool::Selector selector;
  ipm::strategy::SharedEngine engine;
  ipm::app::PoolEgressSource source;
  ipm::proxy::Resolver resolver;
  ipm::proxy::DestinationPolicy policy;
  prometheus::Registry registry;
  ipm::proxy::FrontMetrics metrics;
  ipm::proxy::EgressConnector connector;

 private:
  static std::vector<ipm::pool::Egress> build(const ipm::config::Config& c);
};

std::vector<ipm::pool::Egress> Pool::build(const ipm::config::Config& c) {
  std::vector<std::string> warnings;
  return ipm::app::build_egresses(c, ipm::proxy::interface_addresses(), warnings);
}

TEST(EgressConnectorTest, a_source_connects_from_its_own_address) {
  ipm::test::WhoAmIServer target;
  Pool pool("[{kind: source, address: 127.0.1.11}]");
  std::unique_ptr<ipm::proxy::Connection> c;
  const EgressConnection r = pool.connect(loopback(target.port()), c);
  ASSERT_TRUE(r.connected);
  EXPECT_EQ(r.egress.ip, "127.0.1.11");
  EXPECT_EQ(r.tries, 1U);
  // The SOCKS reply's bound address is the socket's real one.
  EXPECT_EQ(r.bound.to_string(), c->egress.local_endpoint().address().to_string() + ":" +
                                     std::to_string(c->egress.local_endpoint().port()));
  EXPECT_EQ(pool.ask(*c), "127.0.1.11");
  EXPECT_THAT(target.peers(), testing::ElementsAre("127.0.1.11"));
  EXPECT_EQ(pool.dials("source", "ok"), 1);
}

TEST(EgressConnectorTest, a_failed_bind_fails_over_and_never_leaves_by_the_default_route) {
  ipm::test::WhoAmIServer target;
  // 192.0.2.1 (TEST-NET-1) is on no interface of this host: its bind fails.
  Pool pool("[{kind: source, address: 192.0.2.1}, {kind: source, address: 127.0.1.12}]");
  for (int i = 0; i < 4; ++i) {
    std::unique_ptr<ipm::proxy::Connection> c;
    const EgressConnection r = pool.connect(loopback(target.port()), c);
    ASSERT_TRUE(r.connected);
    EXPECT_EQ(r.egress.ip, "127.0.1.12");
    EXPECT_EQ(pool.ask(*c), "127.0.1.12");
  }
  // Every connection the target saw came from the egress that worked: the failed bind sent
  // nothing, from any address.
  EXPECT_THAT(target.peers(), testing::Each(testing::Eq("127.0.1.12")));
  EXPECT_EQ(target.peers().size(), 4U);
  EXPECT_EQ(pool.dials("source", "bind_failed"), 2);  // then the engine took it out
  EXPECT_EQ(pool.state("192.0.2.1"), IpState::cooling);
  EXPECT_EQ(pool.state("127.0.1.12"), IpState::available);
}

TEST(EgressConnectorTest, a_refusing_destination_is_not_the_egresses_fault) {
  const std::uint16_t closed = ipm::test::free_tcp_port();
  Pool pool("[{kind: source, address: 127.0.1.13}]");
  for (int i = 0; i < 3; ++i) {
    std::unique_ptr<ipm::proxy::Connection> c;
    const EgressConnection r = pool.connect(loopback(closed), c);
    EXPECT_FALSE(r.connected);
    EXPECT_EQ(r.refusal, Refusal::refused);
  }
  EXPECT_EQ(pool.state("127.0.1.13"), IpState::available);
}

TEST(EgressConnectorTest, destinations_are_checked_before_any_egress_is_tried) {
  Pool pool("[{kind: source, address: 127.0.1.14}]");
  std::unique_ptr<ipm::proxy::Connection> c;
  EgressConnection r = pool.connect(Destination::ipv4({169, 254, 169, 254}, 80), c);
  EXPECT_FALSE(r.connected);
  EXPECT_EQ(r.refusal, Refusal::not_allowed);
  EXPECT_EQ(r.tries, 0U);
  // An IPv6 destination with only IPv4 egresses: the SOCKS5 "address type not supported".
  r = pool.connect(*Destination::from_host("2001:db8::1", 80), c);
  EXPECT_FALSE(r.connected);
  EXPECT_EQ(r.refusal, Refusal::address_mismatch);
  EXPECT_EQ(r.tries, 0U);
  // A domain that does not resolve: "host unreachable", and no egress is blamed.
  r = pool.connect(*Destination::from_host("does-not-exist.invalid", 80), c);
  EXPECT_EQ(r.refusal, Refusal::dns_failed);
  EXPECT_EQ(r.tries, 0U);
  EXPECT_EQ(pool.state("127.0.1.14"), IpState::available);
}

TEST(EgressConnectorTest, a_domain_resolves_for_a_source_and_goes_by_name_to_an_upstream) {
  ipm::test::WhoAmIServer target;
  const std::uint16_t port = ipm::test::free_tcp_port();
  ChildProcess microsocks(SpawnOptions{
      {"microsocks", "-i", "127.0.0.1", "-p", std::to_string(port), "-b", "127.0.1.16"},
      {},
      {},
      {}});
  ASSERT_TRUE(ipm::test::wait_for_tcp_port("127.0.0.1", port, 5s));
  Pool pool("[{kind: source, address: 127.0.1.15}, {kind: upstream, host: 127.0.0.1, port: " +
            std::to_string(port) + "}]");
  std::set<std::string> seen;
  for (int i = 0; i < 2; ++i) {
    std::unique_ptr<ipm::proxy::Connection> c;
    const EgressConnection r = pool.connect(*Destination::from_host("localhost", target.port()), c);
    ASSERT_TRUE(r.connected) << static_cast<int>(r.refusal);
    seen.insert(pool.ask(*c));
  }
  EXPECT_THAT(seen, testing::UnorderedElementsAre("127.0.1.15", "127.0.1.16"));
  EXPECT_EQ(pool.dials("upstream", "ok"), 1);
}

TEST(EgressConnectorTest, upstream_credentials_refusals_and_a_dead_upstream) {
  ipm::test::WhoAmIServer target;
  const std::uint16_t base = ipm::test::free_tcp_port_run(3);
  const auto port = [&](int i) { return std::to_string(base + i); };
  // Wants a password; ours is right for the first egress, wrong for the second.
  ChildProcess guarded(SpawnOptions{{"microsocks", "-i", "127.0.0.1", "-p", port(0), "-b",
                                     "127.0.1.17", "-u", "alice", "-P", "s3cret"},
                                    {},
                                    {},
                                    {}});
  auto dying = std::make_unique<ChildProcess>(SpawnOptions{
      {"microsocks", "-i", "127.0.0.1", "-p", port(1), "-b", "127.0.1.18"}, {}, {}, {}});
  ASSERT_TRUE(ipm::test::wait_for_tcp_port("127.0.0.1", base, 5s));
  ASSERT_TRUE(ipm::test::wait_for_tcp_port("127.0.0.1", base + 1, 5s));
  Pool pool("[{kind: upstream, host: 127.0.0.1, port: " + port(0) +
            ", username: alice, password: s3cret}, {kind: upstream, host: 127.0.0.1, port: " +
            port(1) + "}]");
  const std::string guarded_id = "127.0.0.1:" + port(0);
  const std::string dying_id = "127.0.0.1:" + port(1);

  std::set<std::string> seen;
  for (int i = 0; i < 2; ++i) {
    std::unique_ptr<ipm::proxy::Connection> c;
    ASSERT_TRUE(pool.connect(loopback(target.port()), c).connected);
    seen.insert(pool.ask(*c));
  }
  EXPECT_THAT(seen, testing::UnorderedElementsAre("127.0.1.17", "127.0.1.18"));

  // The upstream refuses a closed port (SOCKS5 reply 5): the destination's doing, passed on.
  std::unique_ptr<ipm::proxy::Connection> c;
  EgressConnection r = pool.connect(loopback(ipm::test::free_tcp_port()), c);
  EXPECT_FALSE(r.connected);
  EXPECT_EQ(r.socks5_code, 5);
  EXPECT_EQ(pool.state(guarded_id), IpState::available);
  EXPECT_EQ(pool.state(dying_id), IpState::available);

  // Killed: its dials are refused, every request fails over, and the engine cools it.
  dying->stop();
  dying.reset();
  for (int i = 0; i < 4; ++i) {
    r = pool.connect(loopback(target.port()), c);
    ASSERT_TRUE(r.connected);
    EXPECT_EQ(pool.ask(*c), "127.0.1.17");
  }
  EXPECT_EQ(pool.state(dying_id), IpState::cooling);
  EXPECT_EQ(pool.dials("upstream", "refused"), 2);
}

TEST(EgressConnectorTest, wrong_upstream_credentials_are_the_egresses_failure) {
  ipm::test::WhoAmIServer target;
  const std::uint16_t port = ipm::test::free_tcp_port();
  ChildProcess guarded(SpawnOptions{
      {"microsocks", "-i", "127.0.0.1", "-p", std::to_string(port), "-u", "alice", "-P", "s3cret"},
      {},
      {},
      {}});
  ASSERT_TRUE(ipm::test::wait_for_tcp_port("127.0.0.1", port, 5s));
  // No failover (retries 0), so that each request tries one egress in turn; a healthy second
  // egress keeps the ejection cap from holding the first one in.
  Pool pool("[{kind: upstream, host: 127.0.0.1, port: " + std::to_string(port) +
                ", username: alice, password: wrong}, {kind: source, address: 127.0.1.19}]",
            0);
  std::unique_ptr<ipm::proxy::Connection> c;
  int refused = 0;
  for (int i = 0; i < 4; ++i) {
    const EgressConnection r = pool.connect(loopback(target.port()), c);
    if (!r.connected) {
      EXPECT_EQ(r.refusal, Refusal::failed);
      ++refused;
    }
  }
  EXPECT_EQ(refused, 2);
  EXPECT_EQ(pool.dials("upstream", "upstream_error"), 2);
  EXPECT_EQ(pool.state("127.0.0.1:" + std::to_string(port)), IpState::cooling);
  EXPECT_THAT(target.peers(), testing::Each(testing::Eq("127.0.1.19")));
}

}  // namespace
