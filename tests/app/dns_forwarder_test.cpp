// The DNS forwarder on loopback, in process: a resolver the test plays (a UDP socket) sees
// each query from the source egress's address with an id of the forwarder's, the client gets
// its own id back; a silent resolver ends in SERVFAIL at dns_timeout; a second query while
// dns_max_in_flight is taken is answered SERVFAIL at once; a client outside gateway_subnets
// and a malformed query get nothing.
#include "app/dns_forwarder.hpp"

#include <sys/socket.h>

#include <thread>

#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>

#include "proxy/protocol/dns_message.hpp"
#include "proxy/round_robin_source.hpp"
#include "tests/support/counter_value.hpp"

namespace {

namespace asio = boost::asio;
using asio::ip::udp;
namespace dns = ipm::protocol::dns;
using namespace std::chrono_literals;

std::vector<std::byte> query(std::uint16_t id) {
  std::vector<std::byte> q{std::byte(id >> 8), std::byte(id & 0xFF)};
  for (const int b : {1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, int{'a'}, 0, 0, 1, 0, 1})
    q.push_back(static_cast<std::byte>(b));
  return q;
}

// A blocking UDP socket with a receive timeout: the test's client and resolver.
struct Peer {
  explicit Peer(const char* address)
      : socket(ctx, udp::endpoint(asio::ip::make_address(address), 0)) {
    timeval tv{5, 0};
    ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  std::vector<std::byte> receive(udp::endpoint& from) {
    std::vector<std::byte> buffer(512);
    boost::system::error_code ec;
    const std::size_t n = socket.receive_from(asio::buffer(buffer), from, 0, ec);
    buffer.resize(ec ? 0 : n);
    return buffer;
  }
  asio::io_context ctx;
  udp::socket socket;
};

struct Forwarder {
  explicit Forwarder(std::uint16_t resolver_port, std::uint32_t max_in_flight = 16)
      : source({[] {
          ipm::pool::Egress e;
          e.ip = "127.0.1.41";
          e.kind = ipm::pool::EgressKind::source;
          e.family = ipm::pool::Family::ipv4;
          return e;
        }()}) {
    ipm::config::Config c;
    c.dns_host = "127.0.0.1";
    c.dns_port = 0;  // any free port
    c.gateway_subnets = {"127.0.0.2/32"};
    c.dns_upstreams = {"127.0.0.1:" + std::to_string(resolver_port)};
    c.dns_timeout = 300ms;
    c.dns_max_in_flight = max_in_flight;
    forwarder.emplace(io.get_executor(), c, source, registry);
    forwarder->start();
    thread = std::thread([this] { io.run(); });
  }
  ~Forwarder() {
    asio::post(io, [this] { forwarder->stop(); });
    thread.join();
  }
  udp::endpoint endpoint() const { return forwarder->local_endpoint(); }
  double count(const std::string& transport, const std::string& result) {
    return ipm::test::counter_value(registry, "ipmanager_dns_queries_total",
                                    {{"transport", transport}, {"result", result}});
  }

  asio::io_context io;
  prometheus::Registry registry;
  ipm::proxy::RoundRobinSource source;
  std::optional<ipm::app::DnsForwarder> forwarder;
  std::thread thread;
};

TEST(DnsForwarderTest, relays_from_the_egress_address_with_its_own_id_and_gives_the_clients_back) {
  Peer resolver("127.0.0.1");
  Forwarder f(resolver.socket.local_endpoint().port());
  Peer client("127.0.0.2");
  client.socket.send_to(asio::buffer(query(0x1234)), f.endpoint());
  udp::endpoint from;
  std::vector<std::byte> asked = resolver.receive(from);
  ASSERT_FALSE(asked.empty()) << "the query did not reach the resolver";
  EXPECT_EQ(from.address().to_string(), "127.0.1.41");  // the source egress's address
  asked[2] = std::byte{0x81};  // the resolver's answer: the query as a response
  resolver.socket.send_to(asio::buffer(asked), from);
  const auto answer = client.receive(from);
  ASSERT_EQ(answer.size(), asked.size());
  EXPECT_TRUE(dns::is_response_to(answer, 0x1234)) << "the client's id was not given back";
  EXPECT_EQ(f.count("udp", "answered"), 1);

  // A client outside gateway_subnets, and a malformed query: nothing comes back.
  Peer stranger("127.0.0.3");
  stranger.socket.send_to(asio::buffer(query(7)), f.endpoint());
  auto cut = query(8);
  cut.resize(14);
  client.socket.send_to(asio::buffer(cut), f.endpoint());
  client.socket.send_to(asio::buffer(query(9)), f.endpoint());  // a marker behind them
  const auto marker = resolver.receive(from);
  ASSERT_FALSE(marker.empty());
  EXPECT_EQ(f.count("udp", "refused"), 1);
  EXPECT_EQ(f.count("udp", "malformed"), 1);
}

TEST(DnsForwarderTest, a_silent_resolver_ends_in_servfail_and_past_the_cap_at_once) {
  Peer resolver("127.0.0.1");  // never answers
  Forwarder f(resolver.socket.local_endpoint().port(), 1);
  Peer client("127.0.0.2");
  client.socket.send_to(asio::buffer(query(1)), f.endpoint());
  udp::endpoint from;
  ASSERT_FALSE(resolver.receive(from).empty());  // the first is in flight
  client.socket.send_to(asio::buffer(query(2)), f.endpoint());
  const auto first = client.receive(from);  // the second, refused at once
  ASSERT_GE(first.size(), dns::kHeaderSize);
  EXPECT_EQ(dns::message_id(first), 2);
  EXPECT_EQ(static_cast<int>(first[3]) & 0x0F, 2);  // SERVFAIL
  const auto second = client.receive(from);         // the first, at dns_timeout
  ASSERT_GE(second.size(), dns::kHeaderSize);
  EXPECT_EQ(dns::message_id(second), 1);
  EXPECT_EQ(static_cast<int>(second[3]) & 0x0F, 2);
  EXPECT_EQ(f.count("udp", "overloaded"), 1);
  EXPECT_EQ(f.count("udp", "failed"), 1);
}

}  // namespace
