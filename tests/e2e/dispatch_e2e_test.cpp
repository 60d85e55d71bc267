// Dispatch mode end to end: the ipmanager binary started as go-dispatch-proxy users start it
// (or with the YAML form), curl as the client, microsocks as upstreams, raw sockets for bad
// input, and a loopback target that answers each request with the address the connection came
// from, so every check sees the egress actually used.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <stdexcept>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/support/child_process.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/ssh_server.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/whoami_server.hpp"

namespace ipm::test {
namespace {

using namespace std::chrono_literals;
using testing::HasSubstr;

/// A raw TCP client for bad input: connect, send, read what comes back until the server
/// closes (or `wait` passes).
class RawClient {
 public:
  explicit RawClient(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  ~RawClient() { ::close(fd_); }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  bool connected() const { return connected_; }
  void send(std::string_view bytes) {
    [[maybe_unused]] const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  }
  void send(std::initializer_list<int> bytes) {
    std::string s;
    for (int b : bytes)
      s.push_back(static_cast<char>(b));
    send(s);
  }
  /// Reads until the server closes the connection; `closed` tells whether it did within
  /// `wait` (false: still open).
  std::string read_to_close(std::chrono::milliseconds wait, bool* closed = nullptr) {
    std::string got;
    const auto deadline = std::chrono::steady_clock::now() + wait;
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      pollfd p{fd_, POLLIN, 0};
      if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
        if (closed != nullptr)
          *closed = false;
        return got;
      }
      char buf[4096];
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) {
        if (closed != nullptr)
          *closed = true;
        return got;
      }
      got.append(buf, static_cast<std::size_t>(n));
    }
  }
  /// Reads exactly `n` bytes (or less when the server closes first).
  std::string read(std::size_t n, std::chrono::milliseconds wait = 5s) {
    std::string got;
    while (got.size() < n) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(wait.count())) <= 0)
        break;
      char buf[512];
      const ssize_t r = ::recv(fd_, buf, std::min(sizeof buf, n - got.size()), 0);
      if (r <= 0)
        break;
      got.append(buf, static_cast<std::size_t>(r));
    }
    return got;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

std::string bytes(std::initializer_list<int> list) {
  std::string s;
  for (int b : list)
    s.push_back(static_cast<char>(b));
  return s;
}

// A SOCKS5 CONNECT request to 127.0.0.1:port (no authentication offered).
std::string socks5_connect(std::array<int, 4> ip, std::uint16_t port) {
  return bytes({5, 1, 0}) + bytes({5, 1, 0, 1, ip[0], ip[1], ip[2], ip[3], port >> 8, port & 0xFF});
}

/// A loopback listener that never accepts: connections to it complete in its backlog and
/// stay open, so a test can hold proxied connections without a server thread.
class HeldPort {
 public:
  HeldPort() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd_, 64) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0)
      throw std::runtime_error("HeldPort: cannot listen");
    port_ = ntohs(a.sin_port);
  }
  ~HeldPort() { ::close(fd_); }
  HeldPort(const HeldPort&) = delete;
  HeldPort& operator=(const HeldPort&) = delete;
  std::uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

int open_descriptors(pid_t pid) {
  int n = 0;
  for ([[maybe_unused]] const auto& e :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd"))
    ++n;
  return n;
}

class DispatchTest : public ::testing::Test {
 protected:
  /// Starts `ipmanager dispatch ARGS` on free ports and waits for its front end and probe.
  /// The target is on loopback, which is refused unless allowed: the tests allow 127/8.
  void start(std::vector<std::string> args, std::vector<std::string> env = {}) {
    const std::uint16_t base = free_tcp_port_run(2);
    proxy_port_ = base;
    probe_port_ = base + 1;
    std::vector<std::string> argv = {IPM_EXECUTABLE, "dispatch",
                                     "-lport",       std::to_string(proxy_port_),
                                     "-web",         std::to_string(probe_port_)};
    argv.insert(argv.end(), args.begin(), args.end());
    env.push_back("IPM_ALLOW_DESTINATIONS=[127.0.0.0/8]");
    env.push_back("IPM_CONSECUTIVE_FAILURE=2");
    launch(argv, env);
  }

  /// Starts `ipmanager --config` with `yaml` (its listen and probe ports are filled in).
  /// A second front end's port is written PORT2.
  void start_yaml(const std::string& yaml) {
    const std::uint16_t base = free_tcp_port_run(3);
    proxy_port_ = base;
    probe_port_ = base + 1;
    write_file(dir_ / "config.yaml", yaml + "probe_port: " + std::to_string(probe_port_) +
                                         "\nallow_destinations: [127.0.0.0/8]\n");
    std::string text = read_file(dir_ / "config.yaml");
    if (const auto second = text.find("PORT2"); second != std::string::npos) {
      second_port_ = base + 2;
      text.replace(second, 5, std::to_string(second_port_));
    }
    const auto at = text.find("PORT");
    text.replace(at, 4, std::to_string(proxy_port_));
    write_file(dir_ / "config.yaml", text);
    launch({IPM_EXECUTABLE, "--config", (dir_ / "config.yaml").string()}, {});
    if (second_port_ != 0) {
      ASSERT_TRUE(wait_for_tcp_port("127.0.0.1", second_port_, 10s));
    }
  }

  void launch(const std::vector<std::string>& argv, const std::vector<std::string>& env) {
    ipm_ =
        std::make_unique<ChildProcess>(SpawnOptions{argv, env, dir_ / "ipm.out", dir_ / "ipm.err"});
    ASSERT_TRUE(wait_for_tcp_port("127.0.0.1", probe_port_, 10s)) << read_file(dir_ / "ipm.err");
    ASSERT_TRUE(wait_for_tcp_port("127.0.0.1", proxy_port_, 10s)) << read_file(dir_ / "ipm.err");
  }

  /// curl with `proxy_args` to the target at `host`; the body ("" on failure) and the exit.
  /// `port` 0: the target's.
  std::pair<std::string, int> curl(const std::vector<std::string>& proxy_args,
                                   const std::string& host = "127.0.0.1", std::uint16_t port = 0) {
    std::vector<std::string> argv = {"curl", "-s", "-m", "10"};
    argv.insert(argv.end(), proxy_args.begin(), proxy_args.end());
    argv.push_back("http://" + host + ":" + std::to_string(port != 0 ? port : target_.port()) +
                   "/");
    const auto out = dir_ / ("curl" + std::to_string(++calls_));
    const int rc = run_command(SpawnOptions{argv, {}, out, dir_ / "curl.err"}, 20s);
    return {read_file(out), rc};
  }

  std::string proxy() const { return "127.0.0.1:" + std::to_string(proxy_port_); }
  std::string metrics() { return http_get("127.0.0.1", probe_port_, "/metrics").body; }
  std::string probe() { return http_get("127.0.0.1", probe_port_, "/probe").body; }

  TempDir dir_{"ipm-dispatch"};
  WhoAmIServer target_;
  std::unique_ptr<ChildProcess> ipm_;
  std::uint16_t proxy_port_ = 0;
  std::uint16_t probe_port_ = 0;
  std::uint16_t second_port_ = 0;
  int calls_ = 0;
};

TEST_F(DispatchTest, ratios_come_out_as_go_dispatch_proxy_users_expect) {
  start({"127.0.1.1@3", "127.0.1.2@2"});
  std::map<std::string, int> seen;
  for (int i = 0; i < 25; ++i)
    ++seen[curl({"--socks5", proxy()}).first];
  EXPECT_EQ(seen["127.0.1.1"], 15);
  EXPECT_EQ(seen["127.0.1.2"], 10);
  EXPECT_THAT(target_.peers(), testing::Each(testing::AnyOf("127.0.1.1", "127.0.1.2")));
}

// The enhanced fork's scenario on loopback: clients 127.0.0.5 (the 5x client), .6 (the guest)
// and .7 (a host of the department's subnet) and an unruled one (127.0.0.1), each with curl
// --interface, over two source egresses of ratio 1; the target reports the egress it saw.
TEST_F(DispatchTest, source_ip_rules_give_each_client_its_own_ratios_and_reload_on_sighup) {
  const auto rules = [&](int guest_on_3) {
    write_file(dir_ / "rules.json", R"({
  "127.0.0.2:0": {
    "127.0.0.5": {"source_ip": "127.0.0.5", "contention_ratio": 5, "description": "5x client"},
    "127.0.0.6": {"source_ip": "127.0.0.6", "contention_ratio": 1, "description": "1x guest"}
  },
  "127.0.0.3:0": {
    "127.0.0.4/30": {"source_ip": "127.0.0.4/30", "contention_ratio": 3, "description": "dept"},
    "127.0.0.6": {"source_ip": "127.0.0.6", "contention_ratio": )" +
                                        std::to_string(guest_on_3) + R"(, "description": "guest"}
  }
})");
  };
  rules(0);
  start({"-config", (dir_ / "rules.json").string(), "127.0.0.2@1", "127.0.0.3@1"});
  const auto seen = [&](const std::string& client, int n, bool http = false) {
    std::map<std::string, int> out;
    for (int i = 0; i < n; ++i) {
      const auto [body, rc] = curl(
          {"--interface", client, http ? "-x" : "--socks5", (http ? "http://" : "") + proxy()});
      ++out[rc == 0 ? body : "refused"];
    }
    return out;
  };
  using Seen = std::map<std::string, int>;
  // Host rule 5 on .2, the department's 3 on .3: 5 of every 8.
  EXPECT_EQ(seen("127.0.0.5", 8), (Seen{{"127.0.0.2", 5}, {"127.0.0.3", 3}}));
  // The guest: ratio 0 on .3 (its host rule beats the department's 3): never .3.
  EXPECT_EQ(seen("127.0.0.6", 4), (Seen{{"127.0.0.2", 4}}));
  // A host of the department without a rule of its own, through the HTTP front end: .2 has
  // no rule for it (its default ratio 1), .3 the department's 3.
  EXPECT_EQ(seen("127.0.0.7", 8, true), (Seen{{"127.0.0.2", 2}, {"127.0.0.3", 6}}));
  // An unruled client: the command line's 1:1.
  EXPECT_EQ(seen("127.0.0.1", 4), (Seen{{"127.0.0.2", 2}, {"127.0.0.3", 2}}));

  // SIGHUP rereads the file: the guest now 1:1.
  const auto reloads = [&](std::string_view what) {
    return wait_until([&] { return read_file(dir_ / "ipm.err").find(what) != std::string::npos; },
                      10s);
  };
  rules(1);
  ASSERT_TRUE(ipm_->signal(SIGHUP));
  ASSERT_TRUE(reloads("SIGHUP: configuration reloaded")) << read_file(dir_ / "ipm.err");
  EXPECT_EQ(seen("127.0.0.6", 4), (Seen{{"127.0.0.2", 2}, {"127.0.0.3", 2}}));

  // A malformed file is refused, naming the entry, and the running rules stay.
  write_file(dir_ / "rules.json", R"({"127.0.0.2:0": {"127.0.0.6": {"contention_ratio": -1}}})");
  ASSERT_TRUE(ipm_->signal(SIGHUP));
  ASSERT_TRUE(reloads("SIGHUP: reload failed")) << read_file(dir_ / "ipm.err");
  EXPECT_THAT(
      read_file(dir_ / "ipm.err"),
      HasSubstr(R"(["127.0.0.2:0"]["127.0.0.6"].contention_ratio: must be a whole number)"));
  EXPECT_EQ(seen("127.0.0.6", 4), (Seen{{"127.0.0.2", 2}, {"127.0.0.3", 2}}));
  EXPECT_TRUE(ipm_->running());
}

TEST_F(DispatchTest, a_bad_source_ip_rules_file_stops_the_start_naming_the_entry) {
  write_file(dir_ / "rules.json", R"({"127.0.0.2:0": {"127.0.0.0/33": {"contention_ratio": 1}}})");
  const auto err = dir_ / "start.err";
  const std::uint16_t base = free_tcp_port_run(2);
  const int rc = run_command(SpawnOptions{{IPM_EXECUTABLE, "dispatch", "-lport",
                                           std::to_string(base), "-web", std::to_string(base + 1),
                                           "-config", (dir_ / "rules.json").string(), "127.0.0.2"},
                                          {},
                                          dir_ / "start.out",
                                          err},
                             10s);
  EXPECT_NE(rc, 0);
  EXPECT_THAT(read_file(err), HasSubstr(R"(source_ip_rules: )"));
  EXPECT_THAT(read_file(err), HasSubstr(R"(["127.0.0.2:0"]["127.0.0.0/33"])"));
}

TEST_F(DispatchTest, a_client_past_its_connection_cap_is_refused_in_its_protocol) {
  start_yaml(
      "listen: [{type: mixed, port: PORT}]\n"
      "egresses: [{kind: source, address: 127.0.1.7}]\n"
      "max_connections_per_client: 2\n"
      "close_timeout: 1s\n");  // a held connection the client closes ends within 1 s
  HeldPort held;
  const auto hold = [&](RawClient& c) {
    c.send(socks5_connect({127, 0, 0, 1}, held.port()));
    return c.read(12).substr(0, 4) == bytes({5, 0, 5, 0});
  };
  auto a = std::make_unique<RawClient>(proxy_port_);
  RawClient b(proxy_port_);
  ASSERT_TRUE(hold(*a));
  ASSERT_TRUE(hold(b));
  // The third connection of 127.0.0.1, in each protocol: SOCKS5 2 (not allowed by ruleset),
  // SOCKS4 91 (0x5B, rejected), HTTP 429; nothing dialled for them.
  {
    RawClient c(proxy_port_);
    c.send(socks5_connect({127, 0, 0, 1}, target_.port()));
    EXPECT_EQ(c.read(12).substr(0, 4), bytes({5, 0, 5, 2}));
  }
  {
    RawClient c(proxy_port_);
    c.send(bytes({4, 1, target_.port() >> 8, target_.port() & 0xFF, 127, 0, 0, 1, 0}));
    EXPECT_EQ(c.read(8).substr(0, 2), bytes({0, 91}));
  }
  {
    RawClient c(proxy_port_);
    c.send("CONNECT 127.0.0.1:" + std::to_string(target_.port()) + " HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_THAT(c.read_to_close(5s), testing::StartsWith("HTTP/1.1 429 Too Many Requests"));
  }
  EXPECT_TRUE(target_.peers().empty());
  EXPECT_THAT(
      metrics(),
      HasSubstr(R"(ipmanager_proxy_client_limited_total{front_end="mixed",limit="client"} 3)"));
  EXPECT_THAT(
      metrics(),
      HasSubstr(R"(ipmanager_proxy_refusals_total{front_end="mixed",reason="client_limit"} 3)"));
  // Another client is not touched.
  EXPECT_EQ(curl({"--interface", "127.0.0.6", "--socks5", proxy()}).first, "127.0.1.7");
  // A connection that ends gives its slot back (the proxy sees the close soon after).
  a.reset();
  std::unique_ptr<RawClient> again;
  EXPECT_TRUE(wait_until(
      [&] {
        again = std::make_unique<RawClient>(proxy_port_);
        return hold(*again);
      },
      10s));
}

TEST_F(DispatchTest, a_session_key_lands_on_one_egress_through_either_front_end) {
  start_yaml(
      "listen:\n"
      "  - {type: socks, port: PORT, users: [{name: alice, password: pw}], sticky: username}\n"
      "  - {type: http, port: PORT2, users: [{name: alice, password: pw}], sticky: username}\n"
      "egresses:\n"
      "  - {kind: source, address: 127.0.1.11}\n"
      "  - {kind: source, address: 127.0.1.12}\n"
      "  - {kind: source, address: 127.0.1.13}\n"
      "  - {kind: source, address: 127.0.1.14}\n"
      "  - {kind: source, address: 127.0.1.15}\n");
  const std::string http = "http://127.0.0.1:" + std::to_string(second_port_);
  std::set<std::string> used;
  for (int session = 0; session < 8; ++session) {
    const std::string user = "alice-session-s" + std::to_string(session) + ":pw";
    const auto [first, rc] = curl({"--socks5", proxy(), "--proxy-user", user});
    ASSERT_EQ(rc, 0) << user;
    used.insert(first);
    // The same key again, and through the other front end (another protocol): the same egress.
    EXPECT_EQ(curl({"--socks5", proxy(), "--proxy-user", user}).first, first) << user;
    EXPECT_EQ(curl({"-x", http, "--proxy-user", user}).first, first) << user;
    EXPECT_EQ(curl({"-p", "-x", http, "--proxy-user", user}).first, first) << user;
  }
  EXPECT_GE(used.size(), 2U) << "sessions spread over the egresses";
  // The session part keys, the rest authenticates: a wrong password is still refused.
  EXPECT_NE(curl({"--socks5", proxy(), "--proxy-user", "alice-session-s1:wrong"}).second, 0);
  EXPECT_NE(curl({"--socks5", proxy(), "--proxy-user", "bob-session-s1:pw"}).second, 0);
}

TEST_F(DispatchTest, a_disabled_egress_takes_no_new_connection_keeps_open_ones_and_a_restart) {
  const auto state = dir_ / "state";
  const std::vector<std::string> env = {"IPM_STATE_DIR=" + state.string()};
  start({"127.0.1.21", "127.0.1.22"}, env);
  const auto post = [&](const std::string& path) {
    return http_request("POST", "127.0.0.1", probe_port_, path, {{"Content-Length", "0"}}).status;
  };
  // A connection through .21, opened before the disable, is still relayed after it.
  std::unique_ptr<RawClient> open;
  for (std::size_t i = 1; i <= 2 && !open; ++i) {
    auto c = std::make_unique<RawClient>(proxy_port_);
    c->send(socks5_connect({127, 0, 0, 1}, target_.port()));
    ASSERT_EQ(c->read(10).substr(0, 4), bytes({5, 0, 5, 0}));
    ASSERT_TRUE(wait_until([&] { return target_.peers().size() == i; }, 5s));
    if (target_.peers().back() == "127.0.1.21") {
      open = std::move(c);
    } else {
      c->send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");  // through .22: let it finish
      c->read_to_close(5s);
    }
  }
  ASSERT_TRUE(open) << "the rotation gave .21 one of two connections";
  ASSERT_EQ(post("/api/ip/127.0.1.21/disable"), 200);
  open->send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_THAT(open->read_to_close(5s), HasSubstr("\r\n\r\n127.0.1.21"));

  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(curl({"--socks5", proxy()}).first, "127.0.1.22");
  EXPECT_THAT(probe(), HasSubstr("\"AvailableIP\":[\"127.0.1.22\"]"));
  EXPECT_THAT(http_get("127.0.0.1", probe_port_, "/api/ip/127.0.1.21").body,
              HasSubstr("\"disabled\":true"));

  // Journaled: a restart keeps it disabled.
  ipm_->stop();
  start({"127.0.1.21", "127.0.1.22"}, env);
  EXPECT_THAT(http_get("127.0.0.1", probe_port_, "/api/ip/127.0.1.21").body,
              HasSubstr("\"disabled\":true"));
  EXPECT_EQ(curl({"--socks5", proxy()}).first, "127.0.1.22");
  ASSERT_EQ(post("/api/ip/127.0.1.21/enable"), 200);
  std::map<std::string, int> seen;
  for (int i = 0; i < 4; ++i)
    ++seen[curl({"--socks5", proxy()}).first];
  EXPECT_EQ(seen["127.0.1.21"], 2) << "back in the 1:1 rotation";
  EXPECT_EQ(post("/api/ip/127.0.9.9/disable"), 404);
}

TEST_F(DispatchTest, stats_prints_the_forks_block_on_sigusr1_and_every_interval) {
  write_file(dir_ / "rules.json", R"({"127.0.0.3:0": {"127.0.0.0/24": {
    "source_ip": "127.0.0.0/24", "contention_ratio": 0, "description": "not for loopback"}}})");
  start({"-config", (dir_ / "rules.json").string(), "-stats", "127.0.0.2@2", "127.0.0.3@1"});
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(curl({"--socks5", proxy()}).first, "127.0.0.2");
  HeldPort held;
  RawClient open(proxy_port_);
  open.send(socks5_connect({127, 0, 0, 1}, held.port()));
  ASSERT_EQ(open.read(10).substr(0, 4), bytes({5, 0, 5, 0}));
  EXPECT_THAT(http_get("127.0.0.1", probe_port_, "/api/clients").body,
              HasSubstr(R"({"client":"127.0.0.1","connections":1,"egresses":{"127.0.0.2":1}})"));

  ASSERT_TRUE(ipm_->signal(SIGUSR1));
  const auto out = [&] { return read_file(dir_ / "ipm.out"); };
  ASSERT_TRUE(wait_until(
      [&] { return out().find("Current source IP connections") != std::string::npos; }, 10s))
      << out() << read_file(dir_ / "ipm.err");
  EXPECT_THAT(out(), HasSubstr("\n--- Load Balancer Statistics ---\n"
                               "LB 1: 127.0.0.2 () - Status: enabled\n"
                               "  Default ratio: 2, Total connections: 4\n"
                               "  Success: 4, Failures: 0, Success rate: 100.00%\n"
                               "  Current source IP connections:\n"
                               "    127.0.0.1: 1\n\n"
                               "LB 2: 127.0.0.3 () - Status: enabled\n"
                               "  Default ratio: 1, Total connections: 0\n"
                               "  Success: 0, Failures: 0, Success rate: 0.00%\n"
                               "  Custom source IP rules (1):\n"
                               "    127.0.0.0/24 -> ratio: 0 (not for loopback)\n\n"));
  EXPECT_TRUE(ipm_->running()) << "SIGUSR1 prints, never ends the process";
}

TEST_F(DispatchTest, stats_interval_prints_the_block_on_its_own) {
  start({"127.0.0.2"}, {"IPM_STATS_INTERVAL=1s"});
  const auto blocks = [&] {
    const std::string out = read_file(dir_ / "ipm.out");
    std::size_t n = 0;
    for (auto at = out.find("--- Load Balancer Statistics ---"); at != std::string::npos;
         at = out.find("--- Load Balancer Statistics ---", at + 1))
      ++n;
    return n;
  };
  EXPECT_TRUE(wait_until([&] { return blocks() >= 2; }, 10s)) << read_file(dir_ / "ipm.out");
}

TEST_F(DispatchTest, every_client_protocol_reaches_the_target_through_the_egress) {
  start({"127.0.1.3"});
  const std::string p = proxy();
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--socks5", p}, "127.0.0.1"},
      {{"--socks5-hostname", p}, "localhost"},
      {{"--socks4", p}, "127.0.0.1"},
      {{"--socks4a", p}, "localhost"},
      {{"-x", "http://" + p}, "127.0.0.1"},
      {{"-x", "http://" + p}, "localhost"},
      {{"-p", "-x", "http://" + p}, "127.0.0.1"},
      {{"-p", "-x", "http://" + p}, "localhost"}};
  for (const auto& [args, host] : cases) {
    const auto [body, rc] = curl(args, host);
    EXPECT_EQ(rc, 0) << args[0] << " " << host;
    EXPECT_EQ(body, "127.0.1.3") << args[0] << " " << host;
  }
  const std::string m = metrics();
  for (const char* protocol : {"socks5", "socks4", "http"}) {
    EXPECT_THAT(m,
                testing::ContainsRegex(std::string("ipmanager_proxy_handshakes_total\\{front_end="
                                                   "\"mixed\",protocol=\"") +
                                       protocol + "\"\\} [1-9]"));
  }
}

TEST_F(DispatchTest, users_of_the_yaml_form_must_authenticate) {
  start_yaml(
      "listen: [{type: mixed, port: PORT, users: [{name: alice, password: s3cret}]}]\n"
      "egresses: [{kind: source, address: 127.0.1.4}]\n");
  EXPECT_EQ(curl({"--socks5", proxy(), "--proxy-user", "alice:s3cret"}).first, "127.0.1.4");
  EXPECT_EQ(curl({"-x", "http://" + proxy(), "--proxy-user", "alice:s3cret"}).first, "127.0.1.4");
  EXPECT_EQ(curl({"-p", "-x", "http://" + proxy(), "--proxy-user", "alice:s3cret"}).first,
            "127.0.1.4");
  EXPECT_NE(curl({"--socks5", proxy(), "--proxy-user", "alice:wrong"}).second, 0);
  EXPECT_NE(curl({"--socks5", proxy()}).second, 0);
  // HTTP without credentials: 407 with a Basic challenge.
  RawClient raw(proxy_port_);
  raw.send("GET http://127.0.0.1:" + std::to_string(target_.port()) +
           "/ HTTP/1.1\r\nHost: x\r\n\r\n");
  const std::string answer = raw.read_to_close(5s);
  EXPECT_THAT(answer, testing::StartsWith("HTTP/1.1 407"));
  EXPECT_THAT(answer, HasSubstr("Proxy-Authenticate: Basic"));
  EXPECT_THAT(target_.peers(), testing::Each(testing::Eq("127.0.1.4")));
  EXPECT_EQ(target_.peers().size(), 3U);
}

TEST_F(DispatchTest, a_source_address_on_no_interface_is_out_from_the_start) {
  // 192.0.2.1 (TEST-NET-1) is on no interface: the address watch (rtnetlink, getifaddrs at
  // start) keeps it out of selection, so nothing is even tried from it, nor by the default
  // route. (Without the watch, its failed binds would fail over and eject it.)
  start({"192.0.2.1", "127.0.1.5"});
  for (int i = 0; i < 6; ++i)
    EXPECT_EQ(curl({"--socks5", proxy()}).first, "127.0.1.5");
  EXPECT_THAT(target_.peers(), testing::Each(testing::Eq("127.0.1.5")));
  EXPECT_THAT(probe(), HasSubstr("\"AvailableIP\":[\"127.0.1.5\"]"));
  EXPECT_THAT(metrics(), HasSubstr(R"(front_end="mixed",kind="source",result="bind_failed"} 0)"));
  EXPECT_THAT(read_file(dir_ / "ipm.err"),
              HasSubstr("source 192.0.2.1: its address or link is gone"));
}

TEST_F(DispatchTest, refused_destinations_get_each_protocols_refusal) {
  start({"127.0.1.6"});
  // Link-local: SOCKS5 reply 2 (not allowed), SOCKS4 91, HTTP 403, before any dial.
  {
    RawClient raw(proxy_port_);
    raw.send(socks5_connect({169, 254, 169, 254}, 80));
    EXPECT_EQ(raw.read(12), bytes({5, 0, 5, 2, 0, 1, 0, 0, 0, 0, 0, 0}));
  }
  {
    RawClient raw(proxy_port_);
    raw.send(bytes({4, 1, 0, 80, 169, 254, 1, 1, 0}));
    EXPECT_EQ(raw.read(8).substr(0, 2), bytes({0, 91}));
  }
  {
    RawClient raw(proxy_port_);
    raw.send("CONNECT 169.254.1.1:443 HTTP/1.1\r\nHost: 169.254.1.1:443\r\n\r\n");
    EXPECT_THAT(raw.read_to_close(5s), testing::StartsWith("HTTP/1.1 403"));
  }
  // A domain that does not resolve: host unreachable (4).
  {
    RawClient raw(proxy_port_);
    const std::string name = "does-not-exist.invalid";
    std::string request = bytes({5, 1, 0}) + bytes({5, 1, 0, 3, static_cast<int>(name.size())}) +
                          name + bytes({0, 80});
    raw.send(request);
    EXPECT_EQ(raw.read(12).substr(0, 4), bytes({5, 0, 5, 4}));
  }
  // BIND and UDP ASSOCIATE: command not supported (7); an unknown address type: 8.
  {
    RawClient raw(proxy_port_);
    raw.send(bytes({5, 1, 0, 5, 2, 0, 1, 127, 0, 0, 1, 0, 80}));
    EXPECT_EQ(raw.read(4).substr(0, 4), bytes({5, 0, 5, 7}));
  }
  {
    RawClient raw(proxy_port_);
    raw.send(bytes({5, 1, 0, 5, 1, 0, 9, 127, 0, 0, 1, 0, 80}));
    EXPECT_EQ(raw.read(4).substr(0, 4), bytes({5, 0, 5, 8}));
  }
  EXPECT_TRUE(target_.peers().empty());
  EXPECT_THAT(
      metrics(),
      HasSubstr(R"(ipmanager_proxy_refusals_total{front_end="mixed",reason="not_allowed"} 3)"));
}

TEST_F(DispatchTest, the_hosts_own_addresses_are_refused_unless_allowed) {
  const std::uint16_t base = free_tcp_port_run(2);
  proxy_port_ = base;
  probe_port_ = base + 1;
  launch({IPM_EXECUTABLE, "dispatch", "-lport", std::to_string(proxy_port_), "-web",
          std::to_string(probe_port_), "127.0.1.7"},
         {});
  EXPECT_NE(curl({"--socks5", proxy()}).second, 0);
  EXPECT_NE(curl({"--socks5-hostname", proxy()}, "localhost").second, 0);
  EXPECT_TRUE(target_.peers().empty());
}

TEST_F(DispatchTest, tunnel_mode_over_microsocks_and_a_killed_upstream) {
  const std::uint16_t a = free_tcp_port_run(2);
  // Each microsocks leaves from its own loopback address (-b), so the target tells them apart.
  auto first = std::make_unique<ChildProcess>(SpawnOptions{
      {"microsocks", "-i", "127.0.0.1", "-p", std::to_string(a), "-b", "127.0.1.8"}, {}, {}, {}});
  ChildProcess second(SpawnOptions{
      {"microsocks", "-i", "127.0.0.1", "-p", std::to_string(a + 1), "-b", "127.0.1.9"},
      {},
      {},
      {}});
  ASSERT_TRUE(wait_for_tcp_port("127.0.0.1", a, 5s));
  ASSERT_TRUE(wait_for_tcp_port("127.0.0.1", a + 1, 5s));
  start({"-tunnel", "127.0.0.1:" + std::to_string(a), "127.0.0.1:" + std::to_string(a + 1)});
  std::map<std::string, int> seen;
  for (int i = 0; i < 6; ++i)
    ++seen[curl({"--socks5-hostname", proxy()}, "localhost").first];
  EXPECT_EQ(seen["127.0.1.8"], 3);
  EXPECT_EQ(seen["127.0.1.9"], 3);

  first->stop();  // killed: every client still gets through the other one
  first.reset();
  for (int i = 0; i < 6; ++i)
    EXPECT_EQ(curl({"--socks5", proxy()}).first, "127.0.1.9");
  EXPECT_THAT(metrics(), HasSubstr(R"(kind="upstream",result="refused"} 2)"));
  EXPECT_THAT(probe(), HasSubstr("\"AvailableIP\":[\"127.0.0.1:" + std::to_string(a + 1) + "\"]"));
}

TEST_F(DispatchTest, tunnel_mode_over_an_ssh_dash_d_tunnel_and_failover_when_it_dies) {
  // go-dispatch-proxy's own example: `ssh -D` tunnels as upstreams. A real sshd on loopback
  // (its connections to the target come from 127.0.0.1) beside a microsocks leaving from
  // 127.0.1.11, so the target tells the two apart.
  SshServer sshd;
  const std::uint16_t a = free_tcp_port_run(2);
  auto tunnel = sshd.dynamic_forward(a);
  ChildProcess other(SpawnOptions{
      {"microsocks", "-i", "127.0.0.1", "-p", std::to_string(a + 1), "-b", "127.0.1.11"},
      {},
      dir_ / "microsocks.log",
      dir_ / "microsocks.log"});
  ASSERT_TRUE(wait_for_tcp_port("127.0.0.1", a + 1, 5s));
  start({"-tunnel", "127.0.0.1:" + std::to_string(a) + "@2", "127.0.0.1:" + std::to_string(a + 1)});
  // Clients of every protocol use the SOCKS5 tunnel: ipmanager speaks their protocol and asks
  // the tunnel for the destination (a domain as it is: the sshd resolves it).
  const std::string p = proxy();
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--socks5-hostname", p}, "localhost"},
      {{"--socks4", p}, "127.0.0.1"},
      {{"-p", "-x", "http://" + p}, "localhost"}};
  std::map<std::string, int> seen;
  for (int round = 0; round < 2; ++round) {
    for (const auto& [args, host] : cases) {
      const auto [body, rc] = curl(args, host);
      EXPECT_EQ(rc, 0) << args[0] << " " << host;
      ++seen[body];
    }
  }
  EXPECT_EQ(seen["127.0.0.1"], 4) << "the ssh -D tunnel's share (2 of 3)";
  EXPECT_EQ(seen["127.0.1.11"], 2);
  EXPECT_THAT(metrics(), HasSubstr(R"(kind="upstream",result="ok"} 6)"));

  // The tunnel dies (its ssh client is killed): its port refuses, every client fails over
  // before it hears anything, and the engine takes the tunnel out.
  tunnel->stop();
  tunnel.reset();
  for (int i = 0; i < 6; ++i)
    EXPECT_EQ(curl({"--socks5", proxy()}).first, "127.0.1.11");
  EXPECT_THAT(metrics(), HasSubstr(R"(kind="upstream",result="refused"} 2)"));
  EXPECT_THAT(probe(), HasSubstr("\"AvailableIP\":[\"127.0.0.1:" + std::to_string(a + 1) + "\"]"));
}

// Health per target site through upstreams (issue 20): Dante's sockd refuses one destination
// by its ruleset (SOCKS5 reply 2, "not allowed"), a microsocks beside it reaches every one.
// The refusal is that destination's site's failure on the Dante egress, not the egress's own:
// after consecutive_failure refusals Dante is out for that site only, and keeps serving the
// other one.
TEST_F(DispatchTest, an_upstream_refusing_one_destination_is_skipped_for_that_site_only) {
  WhoAmIServer blocked_target("127.0.0.2");
  const std::uint16_t a = free_tcp_port_run(2);
  write_file(dir_ / "sockd.conf",
             "logoutput: " + (dir_ / "sockd.log").string() + "\n" +
                 "internal: 127.0.0.1 port = " + std::to_string(a) + "\n" +
                 "external: 127.0.1.21\n"
                 "clientmethod: none\n"
                 "socksmethod: none\n"
                 "user.privileged: root\n"
                 "user.unprivileged: nobody\n"
                 "client pass { from: 127.0.0.0/8 to: 0.0.0.0/0 }\n"
                 "socks block { from: 0.0.0.0/0 to: 127.0.0.2/32 log: connect error }\n"
                 "socks pass { from: 127.0.0.0/8 to: 0.0.0.0/0 }\n");
  ChildProcess dante(SpawnOptions{
      {"danted", "-f", (dir_ / "sockd.conf").string(), "-p", (dir_ / "sockd.pid").string()},
      {},
      dir_ / "danted.out",
      dir_ / "danted.out"});
  ChildProcess other(SpawnOptions{
      {"microsocks", "-i", "127.0.0.1", "-p", std::to_string(a + 1), "-b", "127.0.1.22"},
      {},
      {},
      {}});
  ASSERT_TRUE(wait_for_tcp_port("127.0.0.1", a, 10s)) << read_file(dir_ / "danted.out");
  ASSERT_TRUE(wait_for_tcp_port("127.0.0.1", a + 1, 5s));
  const std::string dante_id = "127.0.0.1:" + std::to_string(a);
  const std::string other_id = "127.0.0.1:" + std::to_string(a + 1);
  start({"-tunnel", dante_id, other_id});  // consecutive_failure 2

  // The blocked site first: every client gets through (a refusal fails over before the client
  // hears anything), always by microsocks; Dante refuses it consecutive_failure times, then is
  // skipped for it (without health per site it would be asked, and refuse, every time).
  for (int i = 0; i < 8; ++i) {
    const auto [body, rc] = curl({"--socks5", proxy()}, "127.0.0.2", blocked_target.port());
    ASSERT_EQ(rc, 0) << i << read_file(dir_ / "ipm.err");
    EXPECT_EQ(body, "127.0.1.22") << i;
  }
  EXPECT_THAT(metrics(),
              HasSubstr(R"(ipmanager_proxy_upstream_replies_total{code="2",protocol="socks5"} 2)"));
  // The other site still gets Dante, its half of the 1:1 rotation.
  std::map<std::string, int> open_site;
  for (int i = 0; i < 6; ++i)
    ++open_site[curl({"--socks5", proxy()}).first];
  EXPECT_EQ(open_site["127.0.1.21"], 3) << "Dante still serves the site it does not block";
  EXPECT_EQ(open_site["127.0.1.22"], 3);
  EXPECT_THAT(probe(), HasSubstr("\"AvailableIP\":[\"" + dante_id + "\",\"" + other_id + "\"]"))
      << "the egress itself stays in";
  EXPECT_THAT(http_get("127.0.0.1", probe_port_, "/probe?limit=0&target=127.0.0.2").body,
              HasSubstr("\"AvailableIP\":[\"" + other_id + "\"]"));
  EXPECT_THAT(read_file(dir_ / "ipm.err"),
              HasSubstr("decision eject " + dante_id + " for 127.0.0.2"));
}

TEST_F(DispatchTest, an_idle_egress_whose_check_fails_is_taken_out_before_a_client_tries_it) {
  // No client traffic at all: the checks alone (every second, through each egress) find that
  // one source cannot reach the check's target (its port is closed) and take it out.
  const std::uint16_t closed = free_tcp_port();
  start_yaml(
      "listen: [{type: mixed, port: PORT}]\nconsecutive_failure: 2\n"
      "egresses:\n"
      "  - {kind: source, address: 127.0.1.12, check_interval: 1s,\n"
      "     check: \"http://127.0.0.1:" +
      std::to_string(target_.port()) +
      "/\"}\n"
      "  - {kind: source, address: 127.0.1.13, check_interval: 1s,\n"
      "     check: \"tcp://127.0.0.1:" +
      std::to_string(closed) + "\"}\n");
  EXPECT_TRUE(wait_until(
      [&] { return probe().find("\"AvailableIP\":[\"127.0.1.12\"]") != std::string::npos; }, 10s))
      << probe();
  EXPECT_THAT(read_file(dir_ / "ipm.err"),
              HasSubstr("check tcp://127.0.0.1:" + std::to_string(closed) +
                        " through 127.0.1.13 failed: refused"));
  // The HTTP check went through its own egress, and the clients now get the healthy one.
  EXPECT_THAT(target_.peers(), testing::Each(testing::Eq("127.0.1.12")));
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(curl({"--socks5", proxy()}).first, "127.0.1.12");
}

TEST_F(DispatchTest, a_reload_applies_changed_checks_and_each_check_is_counted) {
  const std::uint16_t closed = free_tcp_port();
  const auto config = [&](const std::string& egresses) {
    return "listen: [{type: mixed, port: PORT}]\nconsecutive_failure: 2\negresses:\n" + egresses;
  };
  const std::string good = "tcp://127.0.0.1:" + std::to_string(target_.port());
  const std::string bad = "tcp://127.0.0.1:" + std::to_string(closed);
  start_yaml(config("  - {kind: source, address: 127.0.1.14, check_interval: 1s, check: \"" + good +
                    "\"}\n  - {kind: source, address: 127.0.1.15}\n"));
  // ipmanager_egress_checks_total{kind="source",result=RESULT}, 0 while absent.
  const auto checks = [&](const std::string& result) {
    const std::string series =
        "ipmanager_egress_checks_total{kind=\"source\",result=\"" + result + "\"} ";
    const std::string text = metrics();
    const auto at = text.find(series);
    return at == std::string::npos ? 0.0 : std::stod(text.substr(at + series.size()));
  };
  ASSERT_TRUE(wait_until([&] { return checks("ok") >= 1; }, 10s)) << metrics();
  EXPECT_THAT(target_.peers(), testing::Each(testing::Eq("127.0.1.14")));

  // SIGHUP: 127.0.1.14's check now fails (a closed port), 127.0.1.15 gets one. Applied at
  // once: two refused checks take 127.0.1.14 out, 127.0.1.15's checks reach the target.
  std::string next =
      config("  - {kind: source, address: 127.0.1.14, check_interval: 1s, check: \"" + bad +
             "\"}\n  - {kind: source, address: 127.0.1.15, "
             "check_interval: 1s, check: \"" +
             good + "\"}\n");
  next.replace(next.find("PORT"), 4, std::to_string(proxy_port_));
  write_file(dir_ / "config.yaml", next + "probe_port: " + std::to_string(probe_port_) +
                                       "\nallow_destinations: [127.0.0.0/8]\n");
  ASSERT_TRUE(ipm_->signal(SIGHUP));
  EXPECT_TRUE(wait_until(
      [&] { return probe().find("\"AvailableIP\":[\"127.0.1.15\"]") != std::string::npos; }, 10s))
      << probe() << read_file(dir_ / "ipm.err");
  EXPECT_THAT(read_file(dir_ / "ipm.err"),
              HasSubstr("SIGHUP: configuration reloaded: applied egresses"));
  EXPECT_GE(checks("refused"), 2);
  EXPECT_TRUE(wait_until(
      [&] {
        const auto peers = target_.peers();
        return std::count(peers.begin(), peers.end(), "127.0.1.15") >= 1;
      },
      10s));
}

TEST_F(DispatchTest, bad_input_is_answered_or_closed_and_hurts_no_one) {
  start({"127.0.1.10"}, {"IPM_HANDSHAKE_TIMEOUT=1s"});
  const pid_t pid = ipm_->pid();
  const int descriptors_before = open_descriptors(pid);

  // Random bytes: closed (with the protocol's error when it had a say), never a crash.
  std::mt19937 rng(15);
  for (int i = 0; i < 200; ++i) {
    RawClient raw(proxy_port_);
    std::string junk(1 + rng() % 600, '\0');
    for (char& ch : junk)
      ch = static_cast<char>(rng());
    raw.send(junk);
    bool closed = false;
    raw.read_to_close(5s, &closed);
    EXPECT_TRUE(closed) << "random input " << i << " left open";
  }
  // Truncated handshakes: the client goes away mid-way.
  for (const std::string& part :
       {bytes({5}), bytes({5, 2, 0}), socks5_connect({127, 0, 0, 1}, 80).substr(0, 7),
        bytes({4, 1, 0, 80, 127, 0, 0, 1, 'u'}),
        std::string("CONNECT 127.0.0.1:80 HTTP/1.1\r\nHo")}) {
    RawClient raw(proxy_port_);
    raw.send(part);
  }
  // Wrong versions: a SOCKS version we do not speak, an auth sub-negotiation of version 2.
  {
    RawClient raw(proxy_port_);
    raw.send(bytes({6, 1, 0}));
    bool closed = false;
    EXPECT_EQ(raw.read_to_close(5s, &closed), "");
    EXPECT_TRUE(closed);
  }
  // Oversized: a SOCKS4a domain beyond 255 bytes, an HTTP head beyond the limit.
  {
    RawClient raw(proxy_port_);
    raw.send(bytes({4, 1, 0, 80, 0, 0, 0, 1, 0}) + std::string(300, 'a') + bytes({0}));
    EXPECT_EQ(raw.read(8).substr(0, 2), bytes({0, 91}));
  }
  {
    RawClient raw(proxy_port_);
    raw.send("CONNECT " + std::string(20000, 'a') + ":80 HTTP/1.1\r\n\r\n");
    const std::string answer = raw.read_to_close(5s);
    EXPECT_THAT(answer, testing::AnyOf(testing::StartsWith("HTTP/1.1 4"), testing::Eq("")));
  }
  // Stalled: a client that sends half a handshake and waits is cut at handshake_timeout.
  {
    RawClient raw(proxy_port_);
    raw.send(bytes({5, 1}));
    bool closed = false;
    raw.read_to_close(10s, &closed);
    EXPECT_TRUE(closed);
  }
  EXPECT_THAT(
      metrics(),
      testing::ContainsRegex(
          R"(ipmanager_proxy_handshake_failures_total\{front_end="mixed",reason="timeout"\} [1-9])"));
  // Everyone else is still served, and every descriptor of those clients is closed again.
  EXPECT_EQ(curl({"--socks5", proxy()}).first, "127.0.1.10");
  EXPECT_TRUE(wait_until([&] { return open_descriptors(pid) <= descriptors_before; }, 10s))
      << open_descriptors(pid) << " descriptors, " << descriptors_before << " before";
  EXPECT_TRUE(ipm_->running());
}

// Issue 15's hostile load in a few seconds: 10,000 connections, 500 at a time, each sending a
// cut, wrong or empty handshake and going (half by FIN, half by RST), and 200 more that stall
// mid-handshake and stay open: the stalled ones are cut at handshake_timeout, every
// descriptor of all of them is closed again, and a good client is served after.
TEST_F(DispatchTest, ten_thousand_hostile_connections_leave_no_descriptor_behind) {
  start({"127.0.1.23"}, {"IPM_HANDSHAKE_TIMEOUT=1s"});
  const pid_t pid = ipm_->pid();
  const int before = open_descriptors(pid);
  const std::vector<std::string> openings = {"",
                                             bytes({5}),
                                             bytes({5, 1, 0}),
                                             socks5_connect({127, 0, 0, 1}, 80).substr(0, 6),
                                             bytes({4, 1, 0, 80, 127}),
                                             "CONNECT 127.0.0.1:",
                                             bytes({0x16, 3, 1, 0, 5}),
                                             bytes({9, 9, 9, 9})};
  const auto dial = [&](const std::string& opening) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const timeval bound{2, 0};  // connect and send give up rather than hang the test
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &bound, sizeof bound);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(proxy_port_);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && !opening.empty())
        [[maybe_unused]]
      const auto n = ::send(fd, opening.data(), opening.size(), MSG_NOSIGNAL);
    return fd;
  };
  std::vector<int> stalled;
  for (int i = 0; i < 200; ++i)
    stalled.push_back(dial(bytes({5, 1})));
  int made = 0;
  for (int batch = 0; batch < 20; ++batch) {
    std::vector<int> fds;
    for (int i = 0; i < 500; ++i)
      fds.push_back(dial(openings[(batch * 500 + i) % openings.size()]));
    for (std::size_t i = 0; i < fds.size(); ++i) {
      if (i % 2 == 1) {
        const linger reset{1, 0};  // close with an RST
        ::setsockopt(fds[i], SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
      }
      made += fds[i] >= 0 ? 1 : 0;
      ::close(fds[i]);
    }
  }
  EXPECT_EQ(made, 10'000);
  // The stalled clients still hold their ends: only the proxy's timeout closes its own.
  EXPECT_TRUE(wait_until([&] { return open_descriptors(pid) <= before; }, 15s))
      << open_descriptors(pid) << " descriptors, " << before << " before";
  for (const int fd : stalled)
    ::close(fd);
  EXPECT_EQ(curl({"--socks5", proxy()}).first, "127.0.1.23");
  EXPECT_TRUE(ipm_->running());
  EXPECT_THAT(
      metrics(),
      testing::ContainsRegex(
          R"(ipmanager_proxy_handshake_failures_total\{front_end="mixed",reason="timeout"\} [1-9][0-9][0-9])"));
}

}  // namespace
}  // namespace ipm::test
