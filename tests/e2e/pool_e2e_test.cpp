// The whole system against a real nginx pool: real nginx, the real ipmanager binary and
// real HTTP clients through ipmanager's proxy (issue 8).
#include "tests/e2e/ipmanager_process.hpp"

#include <atomic>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "tests/support/http_client.hpp"
#include "tests/support/temp_dir.hpp"

namespace {

using ipm::test::IpmanagerProcess;
using ipm::test::ips_in;
using ipm::test::NginxPool;
using ipm::test::NginxPoolOptions;
using ipm::test::pool_of;
using ipm::test::sample;
using ipm::test::wait_until;
using namespace std::chrono_literals;
using testing::IsSupersetOf;

// Sends traffic through the proxy, 20 requests at a time, until `done` holds or `limit`
// passes (cooldowns double while a blocked IP fails its probations, so allow for that).
template <class Done>
bool drive_until(const IpmanagerProcess& ipm, Done done, std::chrono::seconds limit = 20s) {
  return wait_until(
      [&] {
        if (done())
          return true;
        ipm.traffic(20);
        return false;
      },
      limit);
}

TEST(PoolE2ETest, blocked_ips_leave_rotation_and_come_back_through_probation) {
  NginxPool pool(pool_of(20));
  ipm::test::TempDir work;
  IpmanagerProcess ipm(pool, "cool_down_min: 3s\nselection: round_robin\n", work.path());

  EXPECT_EQ(ipm.traffic(40)[200], 40);
  const std::vector<std::string> blocked{pool.ips()[2], pool.ips()[7], pool.ips()[13]};
  pool.block(blocked);

  // Round robin over 20 IPs: 3 failures of each blocked IP within a few rounds.
  ASSERT_TRUE(drive_until(ipm, [&] {
    return ips_in(ipm.states(), "cooling") == std::set<std::string>(blocked.begin(), blocked.end());
  })) << ipm.stderr_text();

  // From now on no new connection leaves through them: the target's own log says so.
  const auto hits_before = pool.target_hits_by_source();
  const auto statuses = ipm.traffic(60);
  EXPECT_EQ(statuses.at(200), 60) << "every client request was served by a healthy IP";
  const auto hits_after = pool.target_hits_by_source();
  for (const auto& ip : blocked) {
    const int before = hits_before.count(ip) ? hits_before.at(ip) : 0;
    const int after = hits_after.count(ip) ? hits_after.at(ip) : 0;
    EXPECT_EQ(after, before) << ip << " still got traffic while cooling";
  }
  // The others carried all of it.
  int others = 0;
  for (const auto& [ip, n] : hits_after) {
    others += n - (hits_before.count(ip) ? hits_before.at(ip) : 0);
  }
  EXPECT_EQ(others, 60);

  // /metrics says the same as /probe (the Go tool's gauges).
  const std::string metrics = ipm.metrics();
  for (const auto& ip : blocked) {
    const std::string labels =
        "{ip=\"" + ip + "\",port=\"" + std::to_string(pool.port_of(ip)) + "\"}";
    EXPECT_EQ(sample(metrics, "ipmanager_cooldown_list" + labels), 1) << ip;
    EXPECT_EQ(sample(metrics, "ipmanager_available_list" + labels), 0) << ip;
  }

  // Unblock: after the cooldown they are offered again (probation), and the first success
  // makes them available.
  pool.unblock(blocked);
  ASSERT_TRUE(drive_until(
      ipm, [&] { return ips_in(ipm.states(), "available").size() == 20; }, 60s))
      << ipm.stderr_text();
  EXPECT_THAT(ipm.stderr_text(), testing::HasSubstr("decision recover " + blocked[0]));
}

TEST(PoolE2ETest, dead_egress_port_fails_over_and_leaves_rotation_without_a_log_line) {
  NginxPool pool(pool_of(5));
  ipm::test::TempDir work;
  IpmanagerProcess ipm(pool, "cool_down_min: 1m\nselection: round_robin\n", work.path());
  const std::string dead = pool.ips()[1];
  pool.stop_server(dead);

  // Every client is served: the proxy fails over to another IP before relaying a byte.
  const auto statuses = ipm.traffic(30);
  EXPECT_EQ(statuses.count(200) ? statuses.at(200) : 0, 30) << ipm.stderr_text();
  EXPECT_EQ(ipm.states().at(dead), "cooling");

  // nginx logged the 30 requests of the other IPs and none of the dead one: the decision
  // came from the proxy's dials alone, each reported to the strategy at once.
  ASSERT_TRUE(wait_until(
      [&] {
        return sample(ipm.metrics(), "ipmanager_scanner_lines_total{result=\"parsed\"}") == 30;
      },
      10s));
  const std::string labels =
      "{ip=\"" + dead + "\",port=\"" + std::to_string(pool.port_of(dead)) + "\"}";
  const std::string metrics = ipm.metrics();
  EXPECT_EQ(sample(metrics, "ipmanager_ip_dial_failures_total" + labels), 3) << metrics;
  EXPECT_EQ(sample(metrics, "ipmanager_ip_ejections_total" + labels), 1);
  EXPECT_EQ(sample(metrics, "ipmanager_ip_responses_total{ip=\"" + dead +
                                "\",outcome=\"failure\",port=\"" +
                                std::to_string(pool.port_of(dead)) + "\"}"),
            0);
  EXPECT_EQ(sample(metrics, "ipmanager_ejections_total{reason=\"dial_failures\"}"), 1);
  EXPECT_THAT(ipm.stderr_text(), testing::HasSubstr("decision eject " + dead));
}

TEST(PoolE2ETest, everything_blocked_falls_back_to_the_least_bad_and_says_so) {
  NginxPool pool(pool_of(4));
  ipm::test::TempDir work;
  IpmanagerProcess ipm(pool, "cool_down_min: 1m\nmax_ejected_percent: 100\n", work.path());
  pool.block(pool.ips());

  ASSERT_TRUE(drive_until(ipm, [&] { return ips_in(ipm.states(), "cooling").size() == 4; }))
      << ipm.stderr_text();
  EXPECT_THAT(ipm.stderr_text(), testing::HasSubstr("decision all_unavailable_enter"));
  EXPECT_EQ(sample(ipm.metrics(), "ipmanager_pool_all_unavailable"), 1);
  // least_bad: clients still reach an egress (whose target answers 403), not a closed socket.
  const auto statuses = ipm.traffic(5);
  EXPECT_EQ(statuses.count(403) ? statuses.at(403) : 0, 5);
}

TEST(PoolE2ETest, everything_blocked_with_refuse_closes_clients_cleanly) {
  NginxPool pool(pool_of(3));
  ipm::test::TempDir work;
  IpmanagerProcess ipm(
      pool, "cool_down_min: 1m\nmax_ejected_percent: 100\nall_unavailable: refuse\n", work.path());
  pool.block(pool.ips());
  ASSERT_TRUE(drive_until(ipm, [&] { return ips_in(ipm.states(), "cooling").size() == 3; }));
  // Refused: the connection is closed at once with a FIN and no byte invented (not reset,
  // not left hanging until the client gives up).
  const auto r = ipm::test::http_get("127.0.0.1", ipm.proxy_port(), "/", {}, 5s);
  EXPECT_EQ(r.error, ipm::test::kClosedWithoutAnswer);
  EXPECT_TRUE(r.headers.empty() && r.body.empty());
  EXPECT_GE(sample(ipm.metrics(), "ipmanager_proxy_connections_total{result=\"no_egress\"}"), 1)
      << ipm.metrics();
}

TEST(PoolE2ETest, restart_in_parse_mode_rebuilds_the_cooling_set_from_the_logs) {
  NginxPool pool(pool_of(8));
  ipm::test::TempDir work;
  const std::vector<std::string> blocked{pool.ips()[0], pool.ips()[5]};
  std::map<std::string, std::string> before;
  {
    IpmanagerProcess ipm(pool, "cool_down_min: 10m\nselection: round_robin\n", work.path());
    pool.block(blocked);
    ASSERT_TRUE(drive_until(ipm, [&] { return ips_in(ipm.states(), "cooling").size() == 2; }));
    ipm.traffic(20);
    before = ipm.states();
    ipm.process().signal(SIGKILL);  // a crash: no chance to save anything
    ASSERT_TRUE(ipm.process().wait_exit(5s));
  }
  IpmanagerProcess restarted(pool, "cool_down_min: 10m\nselection: round_robin\n", work.path(),
                             /*parse_mode=*/true);
  EXPECT_EQ(ips_in(restarted.states(), "cooling"), ips_in(before, "cooling"));
  EXPECT_EQ(ips_in(restarted.states(), "cooling"),
            std::set<std::string>(blocked.begin(), blocked.end()));
}

TEST(PoolE2ETest, bad_input_is_counted_and_hurts_no_other_client) {
  NginxPool pool(pool_of(3));
  ipm::test::TempDir work;
  IpmanagerProcess ipm(pool, "", work.path());

  // Garbage and a 10 MB line appended to the live log nginx writes.
  {
    std::ofstream log(pool.access_log(), std::ios::app);
    for (int i = 0; i < 100; ++i)
      log << "garbage line " << i << " \x01\xff no format here\n";
    log << std::string(10 * 1024 * 1024, 'x') << "\n";
  }
  // A malformed request to the proxy reaches nginx untouched, which answers 400; the probe
  // answers it 400 itself.
  for (std::uint16_t port : {ipm.proxy_port(), ipm.probe_port()}) {
    const auto r = ipm::test::http_get("127.0.0.1", port, std::string("/\x01\x02\xff\r\n\r\n", 8));
    EXPECT_EQ(r.status, 400) << (port == ipm.probe_port() ? "probe: " : "proxy: ") << r.error;
  }
  EXPECT_EQ(ipm.traffic(10)[200], 10);
  EXPECT_EQ(ipm.probe("/ping").body, "pong");
  ASSERT_TRUE(wait_until(
      [&] {
        return ipm.metrics().find("ipmanager_scanner_lines_total{result=\"no_match\"} 100") !=
               std::string::npos;
      },
      10s));
  EXPECT_EQ(sample(ipm.metrics(), "ipmanager_tail_lines_total{result=\"too_long\"}"), 1);
  EXPECT_TRUE(ipm.process().running());
}

// deploy/logrotate/ipmanager-nginx as shipped, with only its two host paths (the nginx log
// folder and pid file) pointed at the test's nginx.
std::string shipped_logrotate_policy(const NginxPool& pool) {
  std::string policy =
      ipm::test::read_file(std::string(IPM_SOURCE_DIR) + "/deploy/logrotate/ipmanager-nginx");
  const auto replace = [&](const std::string& from, const std::string& to) {
    const auto at = policy.find(from);
    if (at == std::string::npos)
      throw std::runtime_error("the shipped logrotate policy no longer names " + from);
    policy.replace(at, from.size(), to);
  };
  replace("\n/var/log/nginx/*.log {", "\n" + (pool.prefix() / "logs").string() + "/*.log {");
  replace("/run/nginx.pid", (pool.prefix() / "nginx.pid").string());
  replace("/run/nginx.pid", (pool.prefix() / "nginx.pid").string());
  return policy;
}

TEST(PoolE2ETest, rotation_under_traffic_with_the_shipped_logrotate_policy_loses_nothing) {
  NginxPool pool(pool_of(4));
  ipm::test::TempDir work;
  IpmanagerProcess ipm(pool, "", work.path());
  ipm::test::write_file(work / "logrotate.conf", shipped_logrotate_policy(pool));

  // Clients keep going through the proxy while logrotate renames, signals and compresses.
  std::atomic<int> answered{0};
  std::atomic<int> attempts{0};
  std::jthread clients([&](const std::stop_token& stop) {
    for (int i = 0; i < 5000 && !stop.stop_requested(); ++i) {
      answered += ipm.request_through_proxy() == 200 ? 1 : 0;
      ++attempts;
    }
  });
  const auto more_requests = [&](int n) {
    const int target = attempts + n;
    return wait_until([&] { return attempts >= target; }, 30s);
  };
  constexpr int kRotations = 3;
  for (int round = 0; round < kRotations; ++round) {
    ASSERT_TRUE(more_requests(40));
    // nginx reopens its log a moment after USR1: until it writes to the new file, that file
    // is empty and the policy's notifempty would skip this rotation.
    ASSERT_TRUE(wait_until(
        [&] {
          std::error_code ec;
          return std::filesystem::file_size(pool.access_log(), ec) > 0;
        },
        30s));
    ipm::test::SpawnOptions rotate;
    rotate.argv = {"logrotate", "-f", "-s", (work / "state").string(),
                   (work / "logrotate.conf").string()};
    rotate.stderr_to = work / "logrotate.err";
    ASSERT_EQ(ipm::test::run_command(rotate), 0) << ipm::test::read_file(work / "logrotate.err");
  }
  ASSERT_TRUE(more_requests(40));
  clients.request_stop();
  clients.join();
  ASSERT_EQ(answered.load(), attempts.load()) << "a client was not served";

  // Every request nginx answered, before, during and after each rotation, became exactly
  // one event: wait for the count to arrive, then make sure no line comes twice.
  const std::string parsed = "ipmanager_scanner_lines_total{result=\"parsed\"}";
  EXPECT_TRUE(wait_until([&] { return sample(ipm.metrics(), parsed) >= answered; }, 15s))
      << ipm.metrics();
  ASSERT_EQ(ipm.traffic(1)[200], 1);  // one more line: everything before it was read
  EXPECT_TRUE(wait_until([&] { return sample(ipm.metrics(), parsed) >= answered + 1; }, 15s));
  EXPECT_EQ(sample(ipm.metrics(), parsed), answered + 1);
  EXPECT_EQ(sample(ipm.metrics(), "ipmanager_tail_rotations_total{kind=\"renamed\"}"), kRotations);
  int compressed = 0;
  for (const auto& e : std::filesystem::directory_iterator(pool.prefix() / "logs"))
    compressed +=
        e.path().filename().string().starts_with("access.log.") && e.path().extension() == ".gz";
  EXPECT_EQ(compressed, kRotations - 1) << "delaycompress: the newest rotated file stays plain";
}

TEST(PoolE2ETest, per_ip_log_of_an_ip_added_by_a_reload_is_followed) {
  NginxPoolOptions options = pool_of(3);
  options.per_ip_logs = true;
  NginxPool pool(options);
  const std::string added = pool.ips()[2];
  pool.stop_server(added);  // not in the pool config when ipmanager starts
  ipm::test::TempDir work;
  IpmanagerProcess ipm(pool, "", work.path());
  ASSERT_FALSE(ipm.states().contains(added));

  pool.start_server(added);
  ASSERT_TRUE(ipm.process().signal(SIGHUP));
  ASSERT_TRUE(wait_until([&] { return ipm.states().contains(added); }, 10s));
  for (int i = 0; i < 5; ++i)
    ASSERT_EQ(pool.get(pool.port_of(added)).status, 200);
  // Its lines are in its own log file, followed since the reload.
  EXPECT_TRUE(wait_until(
      [&] {
        return sample(ipm.metrics(), "ipmanager_scanner_lines_total{result=\"parsed\"}") == 5;
      },
      10s))
      << ipm.stderr_text();
  EXPECT_THAT(ipm.stderr_text(), testing::HasSubstr("(egress IP added)"));
}

TEST(PoolE2ETest, grafana_dashboard_queries_only_metrics_ipmanager_exports) {
  NginxPool pool(pool_of(3));
  ipm::test::TempDir work;
  IpmanagerProcess ipm(pool, "", work.path());
  ASSERT_EQ(ipm.traffic(10)[200], 10);
  // The per-IP history series appear once the tailer has parsed the requests' log lines.
  ASSERT_TRUE(wait_until(
      [&] {
        return sample(ipm.metrics(), "ipmanager_scanner_lines_total{result=\"parsed\"}") == 10;
      },
      10s));
  // Per-IP detail (backoff, dial failures) is served for IPs not available (metrics_per_ip's
  // default): one banned IP makes those series appear.
  ASSERT_EQ(ipm::test::http_request("POST", "127.0.0.1", ipm.probe_port(),
                                    "/api/ip/" + pool.ips()[0] + "/ban")
                .status,
            200);
  std::ifstream in(std::string(IPM_SOURCE_DIR) + "/deploy/grafana/ipmanager-dashboard.json");
  const std::string dashboard((std::istreambuf_iterator<char>(in)),
                              std::istreambuf_iterator<char>());
  ASSERT_FALSE(dashboard.empty());
  const std::string metrics = ipm.metrics();
  const std::regex name("ipmanager_[a-z_]+");
  int checked = 0;
  for (auto it = std::sregex_iterator(dashboard.begin(), dashboard.end(), name);
       it != std::sregex_iterator(); ++it) {
    const std::string series = it->str();
    if (series == "ipmanager_pool")
      continue;  // the dashboard's uid
    EXPECT_TRUE(metrics.find("\n" + series + "{") != std::string::npos ||
                metrics.find("\n" + series + " ") != std::string::npos)
        << "the dashboard queries " << series << ", which /metrics does not have";
    ++checked;
  }
  EXPECT_GT(checked, 20);
}

}  // namespace
