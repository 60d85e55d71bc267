// A real Prometheus scrapes ipmanager next to a real nginx pool; its query API shows the
// blocked IPs leaving ipmanager_available_list (issue 8, the dashboards' view).
#include <cctype>
#include <fstream>
#include <optional>

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "tests/e2e/ipmanager_process.hpp"
#include "tests/e2e/prometheus_query.hpp"
#include "tests/support/temp_dir.hpp"

namespace {

using namespace std::chrono_literals;
using ipm::test::ChildProcess;
using ipm::test::http_get;
using ipm::test::wait_until;

using ipm::test::query;

TEST(PrometheusE2ETest, query_api_shows_blocked_ips_leaving_the_available_list) {
  ipm::test::NginxPoolOptions options;
  options.egress_count = 6;
  ipm::test::NginxPool pool(options);
  ipm::test::TempDir work;
  ipm::test::IpmanagerProcess ipm(pool, "cool_down_min: 10m\nselection: round_robin\n",
                                  work.path());

  const std::uint16_t prom_port = ipm::test::free_tcp_port();
  std::ofstream(work / "prometheus.yml")
      << "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
      << "scrape_configs:\n  - job_name: ipmanager\n    metrics_path: /metrics\n"
      << "    static_configs:\n      - targets: ['127.0.0.1:" << ipm.probe_port() << "']\n";
  ipm::test::SpawnOptions spawn;
  spawn.argv = {"/usr/bin/prometheus", "--config.file=" + (work / "prometheus.yml").string(),
                "--storage.tsdb.path=" + (work / "data").string(),
                "--web.listen-address=127.0.0.1:" + std::to_string(prom_port), "--log.level=warn"};
  spawn.stderr_to = work / "prometheus.log";
  ChildProcess prometheus(spawn);
  ASSERT_TRUE(ipm::test::wait_for_tcp_port("127.0.0.1", prom_port, 30s));

  // Every scrape succeeds and the Go tool's gauge counts the whole pool.
  ASSERT_TRUE(
      wait_until([&] { return query(prom_port, "sum(ipmanager_available_list)") == 6.0; }, 30s));
  EXPECT_EQ(query(prom_port, "up{job=\"ipmanager\"}"), 1.0);

  const std::vector<std::string> blocked{pool.ips()[1], pool.ips()[4]};
  pool.block(blocked);
  ASSERT_TRUE(wait_until(
      [&] {
        ipm.traffic(12);
        return ipm::test::ips_in(ipm.states(), "cooling").size() == 2;
      },
      20s));

  ASSERT_TRUE(
      wait_until([&] { return query(prom_port, "sum(ipmanager_available_list)") == 4.0; }, 30s));
  for (const auto& ip : blocked) {
    EXPECT_EQ(query(prom_port, "ipmanager_available_list{ip=\"" + ip + "\"}"), 0.0) << ip;
    EXPECT_EQ(query(prom_port, "ipmanager_cooldown_list{ip=\"" + ip + "\"}"), 1.0) << ip;
  }
}

}  // namespace
