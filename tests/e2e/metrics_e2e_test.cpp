// The whole /metrics of the running binary, as Prometheus sees it: promtool finds nothing
// to say about it at 0, 1 and 300 IPs, after traffic, a log rotation and operator actions,
// and every family the README's metrics table lists is there.
#include "tests/e2e/ipmanager_process.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <boost/json/parse.hpp>

#include "tests/support/http_client.hpp"
#include "tests/support/temp_dir.hpp"

namespace {

using ipm::test::IpmanagerProcess;
using ipm::test::NginxPool;
using ipm::test::NginxPoolOptions;
using ipm::test::sample;
using ipm::test::wait_until;
using namespace std::chrono_literals;

// What `promtool check metrics` prints about `text` ("" when it has nothing to say), or a
// note that it failed to run.
std::string promtool_says(const std::string& text, const std::filesystem::path& dir) {
  ipm::test::write_file(dir / "metrics.txt", text);
  ipm::test::write_file(dir / "promtool.out", "");
  ipm::test::SpawnOptions o;
  o.argv = {"/bin/sh", "-c", "exec promtool check metrics < " + (dir / "metrics.txt").string()};
  o.stdout_to = dir / "promtool.out";
  o.stderr_to = dir / "promtool.out";
  const int code = ipm::test::run_command(o, 30s);
  const std::string said = ipm::test::read_file(dir / "promtool.out");
  if (code != 0 || !said.empty())
    return "promtool exit " + std::to_string(code) + ": " + said;
  return "";
}

// The metric names of the README's metrics section (its table and the Go tool's gauges),
// except a row the README marks "(only with KEY)": a part these tests do not start (gateway
// mode's DNS forwarder) registers its families only when it runs.
std::set<std::string> readme_families() {
  const std::string readme = ipm::test::read_file(std::string(IPM_SOURCE_DIR) + "/README.md");
  const auto start = readme.find("\n## Metrics");
  std::istringstream section(readme.substr(start, readme.find("\n## ", start + 1) - start));
  std::set<std::string> names;
  const std::regex name("`(ipmanager_[a-z_]+)");
  for (std::string line; std::getline(section, line);) {
    if (line.find("(only with ") != std::string::npos)
      continue;
    for (auto it = std::sregex_iterator(line.begin(), line.end(), name);
         it != std::sregex_iterator(); ++it)
      names.insert((*it)[1].str());
  }
  return names;
}

// The README's families that `text` has no TYPE line for.
std::vector<std::string> missing_families(const std::string& text) {
  std::vector<std::string> missing;
  for (const auto& family : readme_families()) {
    if (text.find("# TYPE " + family + " ") == std::string::npos)
      missing.push_back(family);
  }
  return missing;
}

class MetricsLint {
 public:
  MetricsLint(const IpmanagerProcess& ipm, const std::filesystem::path& dir)
      : ipm_(ipm), dir_(dir) {}
  // Lints the whole /metrics now; `when` names the moment in a failure.
  void check(const std::string& when) {
    const std::string text = ipm_.metrics();
    ASSERT_THAT(text, testing::HasSubstr("ipmanager_build_info")) << when;
    EXPECT_EQ(promtool_says(text, dir_), "") << when;
    EXPECT_THAT(missing_families(text), testing::IsEmpty()) << when;
    ++checked_;
  }
  int checked() const { return checked_; }

 private:
  const IpmanagerProcess& ipm_;
  std::filesystem::path dir_;
  int checked_ = 0;
};

TEST(MetricsE2ETest, readme_lists_the_families) {
  EXPECT_GT(readme_families().size(), 25U);
}

void lint_through_a_life(int ips) {
  NginxPoolOptions options;
  options.egress_count = ips;
  NginxPool pool(options);
  ipm::test::TempDir work;
  IpmanagerProcess ipm(pool, "selection: round_robin\ncool_down_min: 10m", work.path());
  MetricsLint lint(ipm, work.path());
  lint.check("at start");

  // Traffic, with one IP blocked so that failures, an ejection and dial records show.
  const std::string ip0 = pool.ips()[0];
  const std::string ip0_labels =
      "ip=\"" + ip0 + "\",port=\"" + std::to_string(pool.port_of(ip0)) + "\"";
  pool.block({ip0});
  const int requests = std::max(3 * ips, 20);
  std::size_t up = 0;
  std::size_t down = 0;
  int failures_of_ip0 = 0;
  for (int i = 0; i < requests; ++i) {
    const auto r = ipm.get_through_proxy("/");
    ASSERT_GT(r.status, 0) << r.error;
    up += ("GET / HTTP/1.0\r\nHost: 127.0.0.1:" + std::to_string(ipm.proxy_port()) +
           "\r\nConnection: close\r\n\r\n")
              .size();
    down += r.headers.size() + 4 + r.body.size();
    failures_of_ip0 += r.status == 403 ? 1 : 0;
  }
  ASSERT_TRUE(wait_until(
      [&] {
        return sample(ipm.metrics(), "ipmanager_scanner_lines_total{result=\"parsed\"}") ==
               requests;
      },
      20s));
  lint.check("after traffic");
  // The families' values, as the traffic made them.
  const std::string m = ipm.metrics();
  EXPECT_EQ(sample(m, "ipmanager_strategy_events_total{source=\"log\"}"), requests);
  EXPECT_EQ(sample(m, "ipmanager_strategy_events_total{source=\"dial\"}"), requests);
  EXPECT_EQ(sample(m, "ipmanager_strategy_unknown_ip_events_total"), 0);
  EXPECT_EQ(
      sample(m, "ipmanager_ip_responses_total{ip=\"" + ip0 + "\",outcome=\"failure\",port=\"" +
                    std::to_string(pool.port_of(ip0)) + "\"}"),
      failures_of_ip0);
  EXPECT_EQ(sample(m, "ipmanager_ip_ejections_total{" + ip0_labels + "}"), 1);
  EXPECT_EQ(sample(m, "ipmanager_ejections_total{reason=\"failures\"}"), 1);
  EXPECT_EQ(sample(m, "ipmanager_pool_ips{state=\"cooling\"}"), 1);
  EXPECT_EQ(sample(m, "ipmanager_pool_all_unavailable"), ips == 1 ? 1 : 0);
  EXPECT_EQ(sample(m, "ipmanager_proxy_connections_total{result=\"closed\"}"), requests);
  EXPECT_EQ(sample(m, "ipmanager_proxy_active_connections"), 0);
  EXPECT_EQ(sample(m, "ipmanager_proxy_relayed_bytes_total{direction=\"up\"}"),
            static_cast<double>(up));
  EXPECT_EQ(sample(m, "ipmanager_proxy_relayed_bytes_total{direction=\"down\"}"),
            static_cast<double>(down));
  EXPECT_EQ(sample(m, "ipmanager_tail_read_bytes_total"),
            static_cast<double>(std::filesystem::file_size(pool.access_log())));

  // A rotation (rename, reopen) under way and done.
  std::filesystem::rename(pool.access_log(), pool.access_log().string() + ".1");
  pool.reopen_logs();
  ASSERT_EQ(ipm.traffic(2).count(0), 0U);
  ASSERT_TRUE(wait_until(
      [&] {
        return sample(ipm.metrics(), "ipmanager_tail_rotations_total{kind=\"renamed\"}") == 1;
      },
      20s));
  lint.check("after a rotation");

  // Operator actions.
  const std::string ip = pool.ips().back();
  for (const std::string action : {"/ban?for=10m&reason=lint", "/unban", "/reset"}) {
    ASSERT_EQ(
        ipm::test::http_request("POST", "127.0.0.1", ipm.probe_port(), "/api/ip/" + ip + action)
            .status,
        200);
  }
  lint.check("after manual actions");
  EXPECT_EQ(sample(ipm.metrics(), "ipmanager_manual_commands_total"), 3);
  EXPECT_EQ(lint.checked(), 4);
}

TEST(MetricsE2ETest, promtool_finds_nothing_with_one_ip) {
  lint_through_a_life(1);
}

TEST(MetricsE2ETest, promtool_finds_nothing_with_300_ips) {
  lint_through_a_life(300);
}

// No IP in rotation (ipmanager refuses a pool config without any egress, at start and on
// reload, so "0 IPs" is a pool whose every IP an operator banned).
TEST(MetricsE2ETest, promtool_finds_nothing_with_no_ip_in_rotation) {
  NginxPoolOptions options;
  options.egress_count = 2;
  NginxPool pool(options);
  ipm::test::TempDir work;
  IpmanagerProcess ipm(pool, "", work.path());
  MetricsLint lint(ipm, work.path());
  for (const auto& ip : pool.ips()) {
    ASSERT_EQ(
        ipm::test::http_request("POST", "127.0.0.1", ipm.probe_port(), "/api/ip/" + ip + "/ban")
            .status,
        200);
  }
  const auto r = ipm.get_through_proxy();
  EXPECT_EQ(r.error, ipm::test::kClosedWithoutAnswer);  // nothing to relay to
  // The worker counts the refusal as it ends the connection, which the client may see first.
  std::string m;
  EXPECT_TRUE(wait_until(
      [&] {
        m = ipm.metrics();
        return sample(m, "ipmanager_proxy_connections_total{result=\"no_egress\"}") == 1;
      },
      10s))
      << m;
  EXPECT_EQ(sample(m, "ipmanager_pool_ips{state=\"available\"}"), 0);
  EXPECT_EQ(sample(m, "ipmanager_pool_ips{state=\"banned\"}"), 2);
  EXPECT_EQ(sample(m, "ipmanager_pool_all_unavailable"), 1);
  EXPECT_EQ(sample(m, "ipmanager_manual_commands_total"), 2);
  EXPECT_EQ(sample(m, "ipmanager_proxy_connections_total{result=\"no_egress\"}"), 1);
  lint.check("with every IP banned");
}

// Issue 22: a real nginx of 1,000 server blocks on loopback ports, traffic through the proxy,
// and /metrics with its default keys: promtool-clean, the Go gauges for every IP, per-IP
// detail only for the IPs out of traffic, at most 5 series an IP plus a bounded rest.
TEST(MetricsE2ETest, a_pool_of_1000_nginx_server_blocks_stays_within_five_series_an_ip) {
  constexpr int kIps = 1000;
  // nginx holds one listening socket per block, ipmanager one log and its connections: raise
  // the soft descriptor limit (inherited by both) to what the hard one allows.
  rlimit limit{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &limit), 0);
  const rlimit saved = limit;
  limit.rlim_cur = std::min<rlim_t>(limit.rlim_max, 8192);
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &limit), 0);
  if (limit.rlim_cur < 2 * kIps + 512)
    GTEST_SKIP() << "the hard descriptor limit (" << limit.rlim_max << ") is below 2,512";
  struct Restore {
    rlimit saved;
    ~Restore() { ::setrlimit(RLIMIT_NOFILE, &saved); }
  } restore{saved};

  NginxPoolOptions options;
  options.egress_count = kIps;
  options.start_timeout = 120s;
  NginxPool pool(options);
  ipm::test::TempDir work;
  IpmanagerProcess ipm(pool, "selection: round_robin\n", work.path());
  MetricsLint lint(ipm, work.path());

  constexpr int kRequests = 300;
  const auto statuses = ipm.traffic(kRequests);
  ASSERT_EQ(statuses.count(200) ? statuses.at(200) : 0, kRequests) << ipm.stderr_text();
  constexpr int kBanned = 7;
  for (int i = 0; i < kBanned; ++i) {
    const std::string ip = pool.ips()[static_cast<std::size_t>(i * 100)];
    ASSERT_EQ(
        ipm::test::http_request("POST", "127.0.0.1", ipm.probe_port(), "/api/ip/" + ip + "/ban")
            .status,
        200);
  }
  ASSERT_TRUE(wait_until(
      [&] {
        return sample(ipm.metrics(), "ipmanager_scanner_lines_total{result=\"parsed\"}") ==
               kRequests;
      },
      30s));
  lint.check("1,000 IPs after traffic");

  const std::string m = ipm.metrics();
  std::size_t series = 0;
  std::map<std::string, std::size_t> per_family;
  std::istringstream lines(m);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] == '#')
      continue;
    ++series;
    ++per_family[line.substr(0, line.find_first_of("{ "))];
  }
  EXPECT_LE(series, 5u * kIps + 500) << series;
  EXPECT_LT(m.size(), 400'000u);
  EXPECT_EQ(sample(m, "ipmanager_metrics_series"), static_cast<double>(series));
  EXPECT_EQ(sample(m, "ipmanager_metrics_series_dropped"), 0);
  for (const char* go : {"ipmanager_all_list", "ipmanager_available_list",
                         "ipmanager_cooldown_list", "ipmanager_consecutive_failure"})
    EXPECT_EQ(per_family[go], static_cast<std::size_t>(kIps)) << go;
  EXPECT_EQ(per_family["ipmanager_ip_state"], 4u * kBanned);
  EXPECT_EQ(per_family["ipmanager_ip_backoff_seconds"], static_cast<std::size_t>(kBanned));
  EXPECT_EQ(sample(m, "ipmanager_pool_ips{state=\"banned\"}"), kBanned);
  EXPECT_EQ(sample(m, "ipmanager_responses_total{outcome=\"success\"}"), kRequests);
  EXPECT_EQ(sample(m, "ipmanager_history_response{status_code=\"200\"}"), kRequests);

  // The summary form of /probe: the counts and the 7 banned IPs, a few KB.
  const auto summary = ipm.probe("/probe?summary=1");
  ASSERT_EQ(summary.status, 200);
  EXPECT_LT(summary.body.size(), 4096u);
  const auto v = boost::json::parse(summary.body);
  EXPECT_EQ(v.at("IPs").as_int64(), kIps);
  EXPECT_EQ(v.at("IPList").as_array().size(), static_cast<std::size_t>(kBanned));
}

}  // namespace
