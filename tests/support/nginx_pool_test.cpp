#include "tests/support/nginx_pool.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <string>

namespace ipm::test {
namespace {

using ::testing::HasSubstr;

NginxPoolOptions with_count(int n) {
  NginxPoolOptions o;
  o.egress_count = n;
  return o;
}

int count_lines(const std::filesystem::path& p) {
  const std::string s = read_file(p);
  return static_cast<int>(std::count(s.begin(), s.end(), '\n'));
}

TEST(NginxPoolTest, test_route_answers_port_and_ip_on_every_egress) {
  NginxPool pool(with_count(3));
  ASSERT_EQ(pool.ips(), (std::vector<std::string>{"127.0.1.1", "127.0.1.2", "127.0.1.3"}));
  for (std::size_t k = 0; k < pool.ports().size(); ++k) {
    const auto r = pool.get(pool.ports()[k], "/test");
    EXPECT_EQ(r.status, 200) << r.error;
    EXPECT_EQ(r.body, std::to_string(pool.ports()[k]) + "->" + pool.ips()[k]);
  }
}

// A port taken between the pick and nginx's bind (a test running in parallel) costs a retry on
// fresh ports, not a failed test.
TEST(NginxPoolTest, a_port_taken_before_nginx_binds_it_is_retried_on_fresh_ports) {
  struct Holder {
    int fd;
    ~Holder() { ::close(fd); }
  } holder{::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  ASSERT_GE(holder.fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  // Port 0: the kernel's choice, so no parallel test can hold it before this bind.
  ASSERT_EQ(::bind(holder.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(holder.fd, 1), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::getsockname(holder.fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const std::uint16_t taken = ntohs(addr.sin_port);

  auto options = with_count(2);
  int picks = 0;
  options.pick_ports = [&](int n) {
    ++picks;
    return picks == 1 ? taken : free_tcp_port_run(n);
  };
  NginxPool pool(options);
  EXPECT_EQ(picks, 2);
  EXPECT_NE(pool.ports().front(), taken);
  const auto r = pool.get(pool.ports()[1], "/x");
  EXPECT_EQ(r.status, 200) << r.error;
}

TEST(NginxPoolTest, proxied_request_leaves_from_its_egress_ip_and_is_logged) {
  NginxPool pool(with_count(3));
  const auto r = pool.get(pool.port_of("127.0.1.2"), "/x", {{"X-Egress-Key", "k1"}});
  ASSERT_EQ(r.status, 200) << r.error;
  EXPECT_EQ(r.body, "ok 127.0.1.2\n");
  EXPECT_EQ(pool.target_hits_by_source(), (std::map<std::string, int>{{"127.0.1.2", 1}}));
  const std::string log = read_file(pool.access_log());
  EXPECT_THAT(log, HasSubstr("\"GET /x HTTP/1.0\" 200 "));
  EXPECT_THAT(log, HasSubstr(" egress=127.0.1.2 upstream_status=200 rt="));
  EXPECT_THAT(log, HasSubstr("Exgress_key: k1 -> Request Host: - <-"));
}

TEST(NginxPoolTest, header_routed_pool_proxies_to_x_egress_host) {
  auto options = with_count(2);
  options.fixed_target = false;
  NginxPool pool(options);
  const auto r = pool.get(pool.ports()[1], "/y");
  ASSERT_EQ(r.status, 200) << r.error;
  EXPECT_EQ(r.body, "ok 127.0.1.2\n");
}

TEST(NginxPoolTest, block_answers_blocked_status_for_that_ip_only_until_unblocked) {
  auto options = with_count(3);
  options.blocked_status = 429;
  NginxPool pool(options);
  pool.block({"127.0.1.1"});
  EXPECT_EQ(pool.get(pool.ports()[0]).status, 429);
  EXPECT_EQ(pool.get(pool.ports()[1]).status, 200);
  EXPECT_EQ(pool.get(pool.ports()[2]).status, 200);
  pool.unblock({"127.0.1.1"});
  EXPECT_EQ(pool.get(pool.ports()[0]).status, 200);
  EXPECT_THAT(read_file(pool.access_log()), HasSubstr(" 429 "));
}

TEST(NginxPoolTest, stopped_server_refuses_connections_until_started) {
  NginxPool pool(with_count(2));
  pool.stop_server("127.0.1.2");
  const auto dead = pool.get(pool.ports()[1], "/test");
  EXPECT_EQ(dead.status, 0);
  EXPECT_THAT(dead.error, HasSubstr("refused"));
  EXPECT_EQ(pool.get(pool.ports()[0], "/test").status, 200);
  pool.start_server("127.0.1.2");
  EXPECT_EQ(pool.get(pool.ports()[1], "/test").status, 200);
}

TEST(NginxPoolTest, reopen_after_rename_writes_a_new_file) {
  NginxPool pool(with_count(2));
  ASSERT_EQ(pool.get(pool.ports()[0]).status, 200);
  const auto log = pool.access_log();
  const auto rotated = std::filesystem::path(log.string() + ".1");
  std::filesystem::rename(log, rotated);
  ASSERT_EQ(pool.get(pool.ports()[0]).status, 200);  // still written to the renamed file
  pool.reopen_logs();
  ASSERT_EQ(pool.get(pool.ports()[1]).status, 200);
  EXPECT_EQ(count_lines(rotated), 2);
  EXPECT_EQ(count_lines(log), 1);
  EXPECT_THAT(read_file(log), HasSubstr("egress=127.0.1.2"));
}

TEST(NginxPoolTest, per_ip_logs_get_one_file_per_egress) {
  auto options = with_count(2);
  options.per_ip_logs = true;
  NginxPool pool(options);
  EXPECT_THAT(pool.access_log_pattern(), HasSubstr("%s"));
  ASSERT_EQ(pool.get(pool.ports()[0]).status, 200);
  ASSERT_EQ(pool.get(pool.ports()[1]).status, 200);
  ASSERT_EQ(pool.get(pool.ports()[1]).status, 200);
  EXPECT_EQ(count_lines(pool.access_log("127.0.1.1")), 1);
  EXPECT_EQ(count_lines(pool.access_log("127.0.1.2")), 2);
}

TEST(NginxPoolTest, generator_carries_into_the_third_octet) {
  auto options = with_count(3);
  options.egress_base = "127.0.2.254";
  NginxPool pool(options);
  EXPECT_EQ(pool.ips(), (std::vector<std::string>{"127.0.2.254", "127.0.2.255", "127.0.3.0"}));
  const auto r = pool.get(pool.ports()[2], "/test");
  EXPECT_EQ(r.body, std::to_string(pool.ports()[2]) + "->127.0.3.0");
}

}  // namespace
}  // namespace ipm::test
