// Source egresses follow the host's addresses and links (rtnetlink, issue 15), end to end:
// inside a network namespace the test makes (and removes), `ipmanager dispatch` over two source
// addresses, curl clients running all along, and the test deleting an address (and setting a
// link down) under them.
#include <atomic>
#include <csignal>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/gateway/netns.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/whoami_server.hpp"

namespace ipm::test {
namespace {

using namespace std::chrono_literals;
using testing::HasSubstr;

int ip_in(const NetnsPair& ns, std::vector<std::string> args) {
  args.insert(args.begin(), "ip");
  return NetnsPair::exec_in(ns.gateway(), args);
}

// Clients through the proxy, one after another on their own thread until destroyed: each
// result is the source the target saw, or "failed".
class Clients {
 public:
  Clients(const TempDir& dir, std::uint16_t proxy, std::string url)
      : thread_([this, &dir, proxy, url](std::stop_token stop) {
          for (int n = 0; !stop.stop_requested(); ++n) {
            const auto out = dir.path() / ("curl" + std::to_string(n));
            const int rc = run_command(SpawnOptions{{"curl", "-s", "-m", "5", "--socks5",
                                                     "127.0.0.1:" + std::to_string(proxy), url},
                                                    {},
                                                    out,
                                                    dir.path() / "curl.err"},
                                       10s);
            const std::string body = rc == 0 ? read_file(out) : "failed";
            std::filesystem::remove(out);
            std::lock_guard lock(mutex_);
            results_.push_back(body);
          }
        }) {}

  std::vector<std::string> results() const {
    std::lock_guard lock(mutex_);
    return results_;
  }
  std::size_t count() const { return results().size(); }
  /// Waits (bounded) until `n` more results than `from` have come.
  bool wait_for(std::size_t from, std::size_t n) const {
    return wait_until([&] { return count() >= from + n; }, 60s);
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> results_;
  std::jthread thread_;  // last: stopped and joined first
};

std::vector<std::string> since(const std::vector<std::string>& all, std::size_t from) {
  return {all.begin() + static_cast<std::ptrdiff_t>(std::min(from, all.size())), all.end()};
}

class AddressEventsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!ns_.ok())
      GTEST_SKIP() << "skipped: " << ns_.error();
  }

  /// Starts `ipmanager dispatch SOURCES` inside the gateway namespace (the calling thread is
  /// in it), the target on 10.231.0.1.
  void start(const std::vector<std::string>& sources) {
    const std::uint16_t base = free_tcp_port_run(2);
    proxy_ = base;
    probe_ = base + 1;
    std::vector<std::string> argv = {IPM_EXECUTABLE,         "dispatch", "-lport",
                                     std::to_string(proxy_), "-web",     std::to_string(probe_)};
    argv.insert(argv.end(), sources.begin(), sources.end());
    launch(argv, {"IPM_ALLOW_DESTINATIONS=[10.231.0.0/16]"});
  }

  /// Starts `ipmanager --config` with a socks front end and the source egresses `sources`.
  void start_yaml(const std::vector<std::string>& sources) {
    const std::uint16_t base = free_tcp_port_run(2);
    proxy_ = base;
    probe_ = base + 1;
    write_config(sources);
    launch({IPM_EXECUTABLE, "--config", config_path().string()}, {});
  }
  /// Writes the config of start_yaml with `sources` (read again on SIGHUP).
  void write_config(const std::vector<std::string>& sources) const {
    std::string egresses;
    for (const auto& s : sources)
      egresses +=
          (egresses.empty() ? "" : ", ") + std::string("{kind: source, address: ") + s + "}";
    write_file(config_path(), "listen: [{type: socks, port: " + std::to_string(proxy_) +
                                  "}]\nprobe_port: " + std::to_string(probe_) +
                                  "\nallow_destinations: [10.231.0.0/16]\negresses: [" + egresses +
                                  "]\n");
  }
  std::filesystem::path config_path() const { return dir_.path() / "config.yaml"; }

  void launch(const std::vector<std::string>& argv, const std::vector<std::string>& env) {
    ipm_ = std::make_unique<ChildProcess>(
        SpawnOptions{argv, env, dir_.path() / "ipm.out", dir_.path() / "ipm.err"});
    ASSERT_TRUE(wait_for_tcp_port("127.0.0.1", probe_, 10s)) << log();
    ASSERT_TRUE(wait_for_tcp_port("127.0.0.1", proxy_, 10s)) << log();
  }

  std::string log() const { return read_file(dir_.path() / "ipm.err"); }
  bool logged(const std::string& what) const {
    return wait_until([&] { return log().find(what) != std::string::npos; }, 10s);
  }
  std::string probe() { return http_get("127.0.0.1", probe_, "/probe?limit=0").body; }
  std::string url() const { return "http://10.231.0.1:" + std::to_string(target_->port()) + "/"; }

  NetnsPair ns_;
  TempDir dir_{"ipm-addresses"};
  std::optional<InNetns> in_;
  std::unique_ptr<WhoAmIServer> target_;
  std::unique_ptr<ChildProcess> ipm_;
  std::uint16_t proxy_ = 0;
  std::uint16_t probe_ = 0;
};

TEST_F(AddressEventsTest, a_deleted_address_takes_its_source_out_at_once_and_back_with_it) {
  ASSERT_EQ(ip_in(ns_, {"addr", "add", "10.231.0.11/24", "dev", "gw0"}), 0);
  ASSERT_EQ(ip_in(ns_, {"addr", "add", "10.231.0.12/24", "dev", "gw0"}), 0);
  in_.emplace(ns_.gateway());
  target_ = std::make_unique<WhoAmIServer>("10.231.0.1");
  start({"10.231.0.11", "10.231.0.12"});
  Clients clients(dir_, proxy_, url());
  ASSERT_TRUE(clients.wait_for(0, 6));
  EXPECT_THAT(clients.results(), testing::Contains("10.231.0.11"));

  // The address goes while clients run: the source leaves at once, no client fails for it
  // (beyond, at most, the one whose dial raced the deletion), the other source takes all.
  ASSERT_EQ(ip_in(ns_, {"addr", "del", "10.231.0.11/24", "dev", "gw0"}), 0);
  ASSERT_TRUE(logged("source 10.231.0.11: its address or link is gone")) << log();
  const std::size_t gone = clients.count();
  ASSERT_TRUE(clients.wait_for(gone, 8));
  EXPECT_THAT(since(clients.results(), gone), testing::Each(testing::Eq("10.231.0.12")));
  EXPECT_THAT(probe(), HasSubstr("\"AvailableIP\":[\"10.231.0.12\"]"));
  EXPECT_THAT(log(), HasSubstr("decision address_gone 10.231.0.11"));

  // Back: it returns to the rotation without waiting for any cooldown.
  ASSERT_EQ(ip_in(ns_, {"addr", "add", "10.231.0.11/24", "dev", "gw0"}), 0);
  ASSERT_TRUE(logged("source 10.231.0.11: its address is back")) << log();
  const std::size_t back = clients.count();
  ASSERT_TRUE(clients.wait_for(back, 6));
  EXPECT_THAT(since(clients.results(), back), testing::Contains("10.231.0.11"));
  const auto all = clients.results();
  EXPECT_LE(std::count(all.begin(), all.end(), "failed"), 1) << log();
}

TEST_F(AddressEventsTest, a_link_set_down_takes_its_sources_out_and_up_brings_them_back) {
  // A veth pair of its own inside the namespace (running while both ends are up).
  ASSERT_EQ(ip_in(ns_, {"link", "add", "ipmv0", "type", "veth", "peer", "name", "ipmv1"}), 0);
  ASSERT_EQ(ip_in(ns_, {"addr", "add", "10.231.7.1/32", "dev", "ipmv0"}), 0);
  ASSERT_EQ(ip_in(ns_, {"link", "set", "ipmv1", "up"}), 0);
  ASSERT_EQ(ip_in(ns_, {"link", "set", "ipmv0", "up"}), 0);
  ASSERT_EQ(ip_in(ns_, {"addr", "add", "10.231.0.12/24", "dev", "gw0"}), 0);
  in_.emplace(ns_.gateway());
  target_ = std::make_unique<WhoAmIServer>("10.231.0.1");
  start({"10.231.7.1", "10.231.0.12"});
  Clients clients(dir_, proxy_, url());
  ASSERT_TRUE(clients.wait_for(0, 6));
  EXPECT_THAT(clients.results(), testing::Contains("10.231.7.1"));

  ASSERT_EQ(ip_in(ns_, {"link", "set", "ipmv0", "down"}), 0);
  ASSERT_TRUE(logged("source 10.231.7.1: its address or link is gone")) << log();
  const std::size_t down = clients.count();
  ASSERT_TRUE(clients.wait_for(down, 6));
  EXPECT_THAT(since(clients.results(), down), testing::Each(testing::Eq("10.231.0.12")));

  ASSERT_EQ(ip_in(ns_, {"link", "set", "ipmv0", "up"}), 0);
  ASSERT_TRUE(logged("source 10.231.7.1: its address is back")) << log();
  const std::size_t up = clients.count();
  ASSERT_TRUE(clients.wait_for(up, 6));
  EXPECT_THAT(since(clients.results(), up), testing::Contains("10.231.7.1"));
  const auto all = clients.results();
  EXPECT_LE(std::count(all.begin(), all.end(), "failed"), 1) << log();
}

TEST_F(AddressEventsTest, sources_added_by_a_reload_are_followed_and_removed_ones_are_not) {
  ASSERT_EQ(ip_in(ns_, {"addr", "add", "10.231.0.11/24", "dev", "gw0"}), 0);
  ASSERT_EQ(ip_in(ns_, {"addr", "add", "10.231.0.12/24", "dev", "gw0"}), 0);
  in_.emplace(ns_.gateway());
  target_ = std::make_unique<WhoAmIServer>("10.231.0.1");
  start_yaml({"10.231.0.11"});
  {
    Clients clients(dir_, proxy_, url());
    ASSERT_TRUE(clients.wait_for(0, 2));

    // Added by SIGHUP: 10.231.0.12 (its address is there) takes traffic; 10.231.0.13 (on no
    // interface) is out at once.
    write_config({"10.231.0.11", "10.231.0.12", "10.231.0.13"});
    ASSERT_TRUE(ipm_->signal(SIGHUP));
    ASSERT_TRUE(logged("SIGHUP: configuration reloaded: applied egresses")) << log();
    ASSERT_TRUE(logged("source 10.231.0.13: its address or link is gone")) << log();
    const std::size_t added = clients.count();
    ASSERT_TRUE(clients.wait_for(added, 6));
    EXPECT_THAT(since(clients.results(), added), testing::Contains("10.231.0.12"));
    EXPECT_THAT(since(clients.results(), added), testing::Not(testing::Contains("failed")));

    // The added source's address goes: the watch follows it, as a source of the start.
    ASSERT_EQ(ip_in(ns_, {"addr", "del", "10.231.0.12/24", "dev", "gw0"}), 0);
    ASSERT_TRUE(logged("source 10.231.0.12: its address or link is gone")) << log();
    const std::size_t gone = clients.count();
    ASSERT_TRUE(clients.wait_for(gone, 6));
    EXPECT_THAT(since(clients.results(), gone), testing::Each(testing::Eq("10.231.0.11")));
    EXPECT_THAT(probe(), HasSubstr("\"AvailableIP\":[\"10.231.0.11\"]"));
  }

  // Removed by SIGHUP: 10.231.0.11 is no longer followed. The kernel's events come in order,
  // so once 10.231.0.13's return is logged, a line for 10.231.0.11's deletion would be too.
  write_config({"10.231.0.12", "10.231.0.13"});
  ASSERT_TRUE(ipm_->signal(SIGHUP));
  ASSERT_TRUE(logged("0 added, 1 removed (10.231.0.11)")) << log();
  ASSERT_EQ(ip_in(ns_, {"addr", "del", "10.231.0.11/24", "dev", "gw0"}), 0);
  ASSERT_EQ(ip_in(ns_, {"addr", "add", "10.231.0.13/24", "dev", "gw0"}), 0);
  ASSERT_TRUE(logged("source 10.231.0.13: its address is back")) << log();
  EXPECT_THAT(log(), testing::Not(HasSubstr("source 10.231.0.11: its address or link is gone")));
  EXPECT_THAT(probe(), HasSubstr("\"AvailableIP\":[\"10.231.0.13\"]"));
}

}  // namespace
}  // namespace ipm::test
