// The whole system against a real nginx pool: real nginx, the real ipmanager binary and
// real HTTP clients through ipmanager's proxy (issue 8).
#include "tests/e2e/ipmanager_process.hpp"

#include <csignal>
#include <fstream>
#include <iterator>
#include <regex>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "tests/support/temp_dir.hpp"

namespace {

using ipm::test::IpmanagerProcess;
using ipm::test::ips_in;
using ipm::test::NginxPool;
using ipm::test::NginxPoolOptions;
using ipm::test::wait_until;
using namespace std::chrono_literals;
using testing::IsSupersetOf;

NginxPoolOptions pool_of(int n) {
  NginxPoolOptions o;
  o.egress_count = n;
  return o;
}

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

// The value of one sample of /metrics, or -1 when the series is absent.
double sample(const std::string& metrics, const std::string& series) {
  const auto at = metrics.find("\n" + series + " ");
  if (at == std::string::npos)
    return -1;
  return std::stod(metrics.substr(at + series.size() + 2));
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

  // nginx never saw the dead port: the decision came from the proxy's dials alone.
  std::ifstream log(pool.access_log());
  std::string line;
  while (std::getline(log, line)) {
    EXPECT_EQ(line.find("egress=" + dead + " "), std::string::npos) << line;
  }
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
  // Refused: the connection is closed with no byte invented.
  const auto r = ipm::test::http_get("127.0.0.1", ipm.proxy_port(), "/", {}, 5s);
  EXPECT_EQ(r.status, 0);
  EXPECT_TRUE(r.body.empty());
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
  // Random bytes to the proxy and to the probe.
  for (std::uint16_t port : {ipm.proxy_port(), ipm.probe_port()}) {
    const auto r = ipm::test::http_get("127.0.0.1", port, std::string("/\x01\x02\xff\r\n\r\n", 8));
    (void)r;
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

TEST(PoolE2ETest, rotation_under_traffic_with_real_logrotate_loses_and_repeats_nothing) {
  NginxPool pool(pool_of(4));
  ipm::test::TempDir work;
  IpmanagerProcess ipm(pool, "", work.path());
  // The shipped policy (create + delaycompress + USR1), pointed at the test's log and nginx.
  std::ofstream(work / "logrotate.conf")
      << pool.access_log().string() << " {\n  rotate 5\n  compress\n  delaycompress\n"
      << "  create 0644 root root\n  postrotate\n    kill -USR1 " << pool.master_pid()
      << "\n  endscript\n}\n";
  int sent = 0;
  for (int round = 0; round < 3; ++round) {
    sent += ipm.traffic(50)[200];
    ipm::test::SpawnOptions rotate;
    rotate.argv = {"logrotate", "-f", "-s", (work / "state").string(),
                   (work / "logrotate.conf").string()};
    ASSERT_EQ(ipm::test::run_command(rotate), 0);
  }
  sent += ipm.traffic(50)[200];
  ASSERT_EQ(sent, 200);
  // Every request nginx logged, across the rotated files, became exactly one event.
  EXPECT_TRUE(wait_until(
      [&] {
        return sample(ipm.metrics(), "ipmanager_scanner_lines_total{result=\"parsed\"}") == 200;
      },
      10s))
      << ipm.metrics();
  EXPECT_EQ(sample(ipm.metrics(), "ipmanager_tail_rotations_total{kind=\"renamed\"}"), 3);
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
