// Per-client caps on the tcp front end: the client past its cap gets a plain FIN (nothing
// relayed, no egress dialled) and is counted; other clients are not touched.
#include "proxy/server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <cstring>
#include <map>
#include <stdexcept>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "client.hpp"
#include "loopback_backend.hpp"
#include "proxy_under_test.hpp"

namespace ipm::proxy::test {
namespace {

using namespace std::chrono_literals;
using pool::ConnectionEnd;

// A connection to the proxy from `source` (a loopback address of its own: another client).
Fd connect_from(const char* source, std::uint16_t port) {
  Fd fd = new_socket();
  sockaddr_in from{};
  from.sin_family = AF_INET;
  ::inet_pton(AF_INET, source, &from.sin_addr);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&from), sizeof from) != 0)
    throw std::runtime_error(std::string("bind: ") + std::strerror(errno));
  connect_socket(fd, port);
  return fd;
}

bool echo_on(const Fd& client, const std::string& payload) {
  return write_all(client, payload) && read_exactly(client, payload.size()) == payload;
}

std::map<std::string, std::string> limited(const char* limit) {
  return {{"front_end", "tcp"}, {"limit", limit}};
}

TEST(ClientCapsTest, the_client_past_its_cap_gets_a_fin_and_is_counted_others_pass) {
  LoopbackBackend backend(BackendMode::echo);
  ProxyUnderTest proxy({egress_at(backend.port())},
                       [](config::Config& c) { c.max_connections_per_client = 2; });
  Fd a = connect_from("127.0.0.5", proxy.port());
  Fd b = connect_from("127.0.0.5", proxy.port());
  ASSERT_TRUE(echo_on(a, "a"));
  ASSERT_TRUE(echo_on(b, "b"));

  // It sends nothing: a client's unread bytes would turn the proxy's FIN into a reset.
  Fd third = connect_from("127.0.0.5", proxy.port());
  const ReadResult refused = read_to_end(third);
  EXPECT_EQ(refused.data, "");
  EXPECT_EQ(refused.error, 0) << "a plain FIN, not a reset";
  EXPECT_EQ(proxy.metric("ipmanager_proxy_client_limited_total", limited("client")), 1);
  EXPECT_EQ(backend.accepted(), 2U) << "no egress dialled for it";
  EXPECT_EQ(proxy.wait_for_decisions(1).at(0).end, ConnectionEnd::refused);

  // Another client is not touched by the first one's cap.
  Fd other = connect_from("127.0.0.6", proxy.port());
  EXPECT_TRUE(echo_on(other, "o"));

  // A connection that ends gives its slot back.
  a.reset();
  bool served = false;
  for (int i = 0; i < 100 && !served; ++i) {
    Fd again = connect_from("127.0.0.5", proxy.port());
    served = echo_on(again, "d");
    if (!served)
      std::this_thread::sleep_for(10ms);  // the proxy has not seen a's close yet
  }
  EXPECT_TRUE(served);
}

TEST(ClientCapsTest, the_per_egress_cap_sends_the_client_elsewhere_then_refuses_it) {
  LoopbackBackend first(BackendMode::echo);
  LoopbackBackend second(BackendMode::echo);
  // Two egresses with ids of their own (the dialer connects next:port whatever the id).
  ProxyUnderTest proxy({pool::Egress{"10.0.0.1", first.port(), {}, 1},
                        pool::Egress{"10.0.0.2", second.port(), {}, 1}},
                       [](config::Config& c) { c.max_connections_per_client_egress = 1; });
  Fd a = connect_from("127.0.0.5", proxy.port());
  ASSERT_TRUE(echo_on(a, "a"));
  Fd b = connect_from("127.0.0.5", proxy.port());
  ASSERT_TRUE(echo_on(b, "b"));
  EXPECT_EQ(first.accepted(), 1U);
  EXPECT_EQ(second.accepted(), 1U) << "one connection per egress";

  Fd c = connect_from("127.0.0.5", proxy.port());
  const ReadResult refused = read_to_end(c);
  EXPECT_EQ(refused.data, "");
  EXPECT_EQ(refused.error, 0);
  EXPECT_EQ(proxy.metric("ipmanager_proxy_client_limited_total", limited("client_egress")), 1);
  EXPECT_EQ(proxy.metric("ipmanager_proxy_client_limited_total", limited("client")), 0);
  EXPECT_EQ(first.accepted() + second.accepted(), 2U);

  // Another client has its own per-egress counts.
  Fd other = connect_from("127.0.0.6", proxy.port());
  EXPECT_TRUE(echo_on(other, "o"));
}

TEST(ClientCapsTest, a_subnet_prefix_counts_its_clients_together) {
  LoopbackBackend backend(BackendMode::echo);
  ProxyUnderTest proxy({egress_at(backend.port())}, [](config::Config& c) {
    c.max_connections_per_client = 1;
    c.client_prefix_v4 = 24;
  });
  Fd a = connect_from("127.0.0.5", proxy.port());
  ASSERT_TRUE(echo_on(a, "a"));
  Fd b = connect_from("127.0.0.6", proxy.port());  // the same /24
  EXPECT_EQ(read_to_end(b).data, "");
  Fd c = connect_from("127.0.1.6", proxy.port());  // another /24
  EXPECT_TRUE(echo_on(c, "c"));
  const auto counts = proxy.server->client_limits().counts();
  ASSERT_EQ(counts.size(), 2U);
  EXPECT_EQ(counts[0].connections, 1U);
}

}  // namespace
}  // namespace ipm::proxy::test
