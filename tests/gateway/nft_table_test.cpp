// Gateway mode's firewall table and original destinations, for real: inside two network
// namespaces the test makes (a client whose default route is the gateway, and the gateway),
// with libnftables installing the table in the gateway's namespace. Never the host's network.
#include "gateway/nft_table.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "gateway/original_destination.hpp"
#include "tests/gateway/netns.hpp"

namespace {

using ipm::gateway::FirewallPlan;
using ipm::gateway::NftTable;
using ipm::test::InNetns;
using ipm::test::NetnsPair;
using testing::HasSubstr;
using testing::Not;

ipm::config::Cidr cidr(const char* text) {
  std::string why;
  return *ipm::config::Cidr::parse(text, why);
}

constexpr std::uint16_t kTransparentPort = 18888;
constexpr std::uint16_t kDnsPort = 15353;

FirewallPlan plan() {
  return FirewallPlan{{cidr("10.231.0.0/24"), cidr("fd31::/64")}, kTransparentPort, kDnsPort, {}};
}

int occurrences(const std::string& text, const std::string& what) {
  int n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
    ++n;
  return n;
}

#define REQUIRE_NAMESPACES(pair) \
  if (!(pair).ok())              \
  GTEST_SKIP() << "skipped: " << (pair).error()

TEST(NftTableTest, installs_only_its_own_table_replaces_a_leftover_and_leaves_none) {
  NetnsPair ns;
  REQUIRE_NAMESPACES(ns);
  // Someone else's table in the gateway's ruleset: it must survive everything below.
  ASSERT_EQ(NetnsPair::exec_in(ns.gateway(), {"nft", "add", "table", "ip", "operator_own"}), 0);
  InNetns in(ns.gateway());
  {
    NftTable table;
    table.install(plan());
    // A crash would leave the table; the next start installs again: still one table.
    table.install(plan());
    const std::string ruleset = table.ruleset();
    EXPECT_EQ(occurrences(ruleset, "table inet ipmanager"), 1) << ruleset;
    EXPECT_EQ(occurrences(ruleset, "redirect to :18888"), 2) << ruleset;
    EXPECT_THAT(ruleset, HasSubstr("table ip operator_own")) << ruleset;
  }
  NftTable after;
  const std::string ruleset = after.ruleset();
  EXPECT_THAT(ruleset, Not(HasSubstr("ipmanager"))) << "the table outlived its owner";
  EXPECT_THAT(ruleset, HasSubstr("table ip operator_own"));
}

TEST(NftTableTest, a_table_left_by_a_killed_process_is_replaced_at_the_next_start) {
  NetnsPair ns;
  REQUIRE_NAMESPACES(ns);
  InNetns in(ns.gateway());
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    NftTable table;
    table.install(plan());
    ::_exit(0);  // as after SIGKILL: no destructor runs
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  NftTable probe;
  ASSERT_EQ(occurrences(probe.ruleset(), "table inet ipmanager"), 1) << "the leftover is there";
  {
    NftTable restarted;
    restarted.install(plan());
    EXPECT_EQ(occurrences(restarted.ruleset(), "redirect to :18888"), 2);
  }
  EXPECT_THAT(probe.ruleset(), Not(HasSubstr("ipmanager")));
}

TEST(NftTableTest, a_bad_plan_is_refused_before_nftables_is_touched) {
  NetnsPair ns;
  REQUIRE_NAMESPACES(ns);
  InNetns in(ns.gateway());
  FirewallPlan bad = plan();
  bad.transparent_port = 0;
  NftTable table;
  EXPECT_THROW(table.install(bad), std::invalid_argument);
  EXPECT_FALSE(table.installed());
}

// A listener in the calling thread's namespace.
int listen_on(int family, std::uint16_t port, int type = SOCK_STREAM) {
  const int fd = ::socket(family, type | SOCK_CLOEXEC, 0);
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_storage a{};
  socklen_t length = 0;
  if (family == AF_INET) {
    auto* in = reinterpret_cast<sockaddr_in*>(&a);
    in->sin_family = AF_INET;
    in->sin_port = htons(port);
    length = sizeof *in;
  } else {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&a);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port);
    const int only = 1;
    ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &only, sizeof only);
    length = sizeof *in6;
  }
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), length) != 0)
    return -1;
  if (type == SOCK_STREAM)
    ::listen(fd, 16);
  return fd;
}

// From the client's namespace, in a child process: a TCP connect (and a byte) to address:port,
// or a UDP datagram when `udp`. Returns the child's exit code (0: connected and sent).
int from_client(const NetnsPair& ns, const std::string& address, std::uint16_t port, bool udp) {
  const pid_t child = ::fork();
  if (child == 0) {
    try {
      InNetns inside(ns.client());
      const bool v6 = address.find(':') != std::string::npos;
      const int fd = ::socket(v6 ? AF_INET6 : AF_INET, udp ? SOCK_DGRAM : SOCK_STREAM, 0);
      sockaddr_storage a{};
      socklen_t length = 0;
      if (v6) {
        auto* in6 = reinterpret_cast<sockaddr_in6*>(&a);
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(port);
        ::inet_pton(AF_INET6, address.c_str(), &in6->sin6_addr);
        length = sizeof *in6;
      } else {
        auto* in = reinterpret_cast<sockaddr_in*>(&a);
        in->sin_family = AF_INET;
        in->sin_port = htons(port);
        ::inet_pton(AF_INET, address.c_str(), &in->sin_addr);
        length = sizeof *in;
      }
      timeval tv{3, 0};
      ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
      if (::connect(fd, reinterpret_cast<sockaddr*>(&a), length) != 0)
        ::_exit(2);
      if (::send(fd, "q", 1, 0) != 1)
        ::_exit(3);
      if (!udp) {
        char byte = 0;  // wait for the far side to close, so the accept side can read us
        ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        (void)::recv(fd, &byte, 1, 0);
      }
      ::_exit(0);
    } catch (...) {
      ::_exit(4);
    }
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

bool readable(int fd, int ms) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, ms) == 1;
}

TEST(OriginalDestinationTest, a_redirected_client_connection_keeps_where_it_meant_to_go) {
  NetnsPair ns;
  REQUIRE_NAMESPACES(ns);
  InNetns in(ns.gateway());
  NftTable table;
  table.install(plan());
  const int v4 = listen_on(AF_INET, kTransparentPort);
  const int v6 = listen_on(AF_INET6, kTransparentPort);
  const int dns = listen_on(AF_INET, kDnsPort, SOCK_DGRAM);
  ASSERT_GE(v4, 0);
  ASSERT_GE(v6, 0);
  ASSERT_GE(dns, 0);

  struct Case {
    const char* address;
    std::uint16_t port;
    int listener;
  };
  // 203.0.113.5 and 2001:db8::5 exist nowhere: the client's default route leads to the
  // gateway, whose table redirects the connection before any routing decision.
  for (const Case& c : {Case{"203.0.113.5", 8080, v4}, Case{"2001:db8::5", 443, v6}}) {
    std::thread client([&] { EXPECT_EQ(from_client(ns, c.address, c.port, false), 0); });
    ASSERT_TRUE(readable(c.listener, 5000)) << c.address;
    const int accepted = ::accept4(c.listener, nullptr, nullptr, SOCK_CLOEXEC);
    ASSERT_GE(accepted, 0);
    std::error_code ec;
    const auto d = ipm::gateway::original_destination(accepted, ec);
    ASSERT_TRUE(d.has_value()) << ec.message();
    EXPECT_EQ(d->address, c.address);
    EXPECT_EQ(d->port, c.port);
    EXPECT_EQ(d->v6, std::string(c.address).find(':') != std::string::npos);
    const auto local = ipm::gateway::local_destination(accepted, ec);
    ASSERT_TRUE(local.has_value()) << ec.message();
    EXPECT_FALSE(ipm::gateway::is_own_listener(*d, *local));
    ::close(accepted);
    client.join();
  }
  // DNS to any resolver reaches the forwarder's port.
  EXPECT_EQ(from_client(ns, "198.51.100.53", 53, true), 0);
  EXPECT_TRUE(readable(dns, 5000)) << "the client's DNS query did not reach the forwarder";

  // The gateway's own address is not redirected: a connection to a closed port there is
  // refused instead of landing on the transparent port.
  EXPECT_EQ(from_client(ns, "10.231.0.1", 22, false), 2);
  EXPECT_FALSE(readable(v4, 200));

  // A client that connects to the transparent port itself (not redirected: the gateway's own
  // address) has its own listener as original destination: dialling it would loop.
  std::thread client([&] { from_client(ns, "10.231.0.1", kTransparentPort, false); });
  ASSERT_TRUE(readable(v4, 5000));
  const int accepted = ::accept4(v4, nullptr, nullptr, SOCK_CLOEXEC);
  std::error_code ec;
  const auto own = ipm::gateway::original_destination(accepted, ec);
  ASSERT_TRUE(own.has_value()) << ec.message();
  EXPECT_EQ(own->address, "10.231.0.1");
  EXPECT_TRUE(ipm::gateway::is_own_listener(*own, *ipm::gateway::local_destination(accepted, ec)));
  ::close(accepted);
  client.join();
  for (const int fd : {v4, v6, dns})
    ::close(fd);
}

}  // namespace
