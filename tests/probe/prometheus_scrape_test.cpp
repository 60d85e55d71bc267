// A real Prometheus (Debian package) scrapes the probe's /metrics every second on loopback
// and its query API returns the Go tool's series with their labels.
#include "probe/pool_collector.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/probe/fixture.hpp"
#include "tests/probe/running_server.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/temp_dir.hpp"

namespace {

using ipm::test::base_time;
using ipm::test::ProbeWorld;
using ipm::test::RunningServer;
using testing::HasSubstr;

TEST(PrometheusScrapeTest, prometheus_scrapes_the_probe_and_queries_return_the_series) {
  ProbeWorld w(5);
  w.context.collectables.push_back(
      std::make_shared<ipm::probe::PoolCollector>(w.engine, ipm::probe::BuildInfo{"e2e", "e2e"}));
  w.fill(5, 20);
  w.trip(3, base_time() + std::chrono::minutes(1));
  RunningServer probe(w.context, {});

  ipm::test::TempDir dir("ipm-prometheus");
  const std::uint16_t prom_port = ipm::test::free_tcp_port();
  ipm::test::write_file(dir / "prometheus.yml",
                        "global:\n"
                        "  scrape_interval: 1s\n"
                        "  evaluation_interval: 1s\n"
                        "scrape_configs:\n"
                        "  - job_name: ipmanager\n"
                        "    static_configs:\n"
                        "      - targets: ['127.0.0.1:" +
                            std::to_string(probe.port()) + "']\n");
  ipm::test::SpawnOptions o;
  o.argv = {"/usr/bin/prometheus", "--config.file=" + (dir / "prometheus.yml").string(),
            "--storage.tsdb.path=" + (dir / "data").string(),
            "--web.listen-address=127.0.0.1:" + std::to_string(prom_port), "--log.level=warn"};
  o.stdout_to = dir / "prometheus.log";
  o.stderr_to = dir / "prometheus.log";
  ipm::test::ChildProcess prometheus(o);
  ASSERT_TRUE(ipm::test::wait_for_tcp_port("127.0.0.1", prom_port, std::chrono::seconds(30)))
      << ipm::test::read_file(dir / "prometheus.log");

  const auto query = [&](const std::string& q) {
    return ipm::test::http_get("127.0.0.1", prom_port, "/api/v1/query?query=" + q).body;
  };
  // count(ipmanager_all_list) == 5 once the first scrape is in.
  std::string count;
  const bool scraped = ipm::test::wait_until(
      [&] {
        count = query("count(ipmanager_all_list)");
        return count.find("\"5\"") != std::string::npos;
      },
      std::chrono::seconds(30));
  ASSERT_TRUE(scraped) << count << "\n" << ipm::test::read_file(dir / "prometheus.log");

  EXPECT_THAT(query("ipmanager_cooldown_list%3D%3D1"), HasSubstr("\"ip\":\"10.0.0.3\""));
  EXPECT_THAT(query("ipmanager_cooldown_list%3D%3D1"), HasSubstr("\"port\":\"19003\""));
  EXPECT_THAT(query("up%7Bjob%3D%22ipmanager%22%7D"), HasSubstr("\"1\"]"));
  const auto targets = ipm::test::http_get("127.0.0.1", prom_port, "/api/v1/targets").body;
  EXPECT_THAT(targets, HasSubstr("\"health\":\"up\""));
  EXPECT_THAT(targets, HasSubstr("\"lastError\":\"\""));
}

}  // namespace
