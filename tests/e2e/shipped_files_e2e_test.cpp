// The files deploy/ ships, used as shipped: the example config, the systemd unit, the
// Prometheus job, and deploy/demo.sh (bounded, then stopped as with Ctrl-C).
#include "tests/e2e/ipmanager_process.hpp"

#include <signal.h>
#include <sys/wait.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "tests/support/temp_dir.hpp"

namespace {

using ipm::test::IpmanagerProcess;
using ipm::test::NginxPool;
using ipm::test::NginxPoolOptions;
using ipm::test::read_file;
using ipm::test::SpawnOptions;
using ipm::test::wait_until;
using namespace std::chrono_literals;
using testing::HasSubstr;

const std::string kSource = IPM_SOURCE_DIR;

// Runs argv (bounded) with stdout and stderr into one file; returns {exit code, output}.
std::pair<int, std::string> run(const std::vector<std::string>& argv,
                                const std::filesystem::path& out,
                                const std::vector<std::string>& env = {}) {
  SpawnOptions o;
  o.argv = argv;
  o.extra_env = env;
  o.stdout_to = out;
  o.stderr_to = out;
  ipm::test::write_file(out, "");
  const int code = ipm::test::run_command(o, 60s);
  return {code, read_file(out)};
}

// Replaces the one occurrence of `from` in `text`; throws when the shipped file changed.
void replace_once(std::string& text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  if (at == std::string::npos)
    throw std::runtime_error("shipped file no longer holds " + from);
  text.replace(at, from.size(), to);
}

TEST(ShippedFilesTest, example_config_checks_ok_against_a_real_pool) {
  NginxPool pool;
  ipm::test::TempDir work;
  // As shipped; only the two host paths point at the test's pool (environment overrides,
  // as an operator trying it before deploying would do).
  const auto [code, out] =
      run({IPM_EXECUTABLE, "--config", kSource + "/deploy/examples/config.yaml", "--check"},
          work / "check.out",
          {"IPM_UPSTREAM_CONF_PATH=" + (pool.prefix() / "pool.conf").string(),
           "IPM_ACCESS_LOG_PATH=" + pool.access_log().string()});
  EXPECT_EQ(code, 0) << out;
  EXPECT_THAT(out, HasSubstr("config: ok"));
  EXPECT_THAT(out, HasSubstr("upstream config: ok: 3 egress IPs"));
  EXPECT_THAT(out, HasSubstr("log format: ok"));
}

TEST(ShippedFilesTest, systemd_unit_passes_systemd_analyze_verify) {
  ipm::test::TempDir work;
  const auto [version_code, version] = run({"systemd-analyze", "--version"}, work / "v.out");
  if (version_code != 0)
    GTEST_SKIP() << "systemd-analyze cannot run here: " << version;
  // As shipped, with the binary where the unit expects it replaced by the built one
  // (verify checks that every command exists and is executable).
  std::string unit = read_file(kSource + "/deploy/systemd/ipmanager.service");
  replace_once(unit, "ExecStartPre=/usr/local/bin/ipmanager",
               std::string("ExecStartPre=") + IPM_EXECUTABLE);
  replace_once(unit, "ExecStart=/usr/local/bin/ipmanager",
               std::string("ExecStart=") + IPM_EXECUTABLE);
  ipm::test::write_file(work / "ipmanager.service", unit);
  const auto [code, out] =
      run({"systemd-analyze", "verify", "--man=no", (work / "ipmanager.service").string()},
          work / "verify.out");
  EXPECT_EQ(code, 0) << out;
  EXPECT_EQ(out, "") << "systemd-analyze has something to say about the unit";
}

// The value of a Prometheus instant query with one result, or -1.
double query(std::uint16_t port, const std::string& promql_escaped) {
  const auto r = ipm::test::http_get("127.0.0.1", port, "/api/v1/query?query=" + promql_escaped);
  if (r.status != 200)
    return -1;
  const auto doc = boost::json::parse(r.body);
  const auto& result = doc.at("data").at("result").as_array();
  if (result.size() != 1)
    return -1;
  return std::stod(std::string(result[0].at("value").as_array()[1].as_string()));
}

TEST(ShippedFilesTest, shipped_prometheus_job_scrapes_the_probe) {
  NginxPool pool;
  ipm::test::TempDir work;
  IpmanagerProcess ipm(pool, "", work.path());
  const std::string shipped = kSource + "/deploy/prometheus/ipmanager.yml";
  const auto [check_code, check] = run({"promtool", "check", "config", shipped}, work / "c.out");
  ASSERT_EQ(check_code, 0) << check;

  std::string job = read_file(shipped);
  replace_once(job, "'127.0.0.1:9095'", "'127.0.0.1:" + std::to_string(ipm.probe_port()) + "'");
  ipm::test::write_file(work / "prometheus.yml", job);
  // Prometheus listens where it is told: a port of the free range below the ephemeral ones.
  const std::uint16_t prom_port = ipm::test::free_tcp_port();
  SpawnOptions spawn;
  spawn.argv = {"/usr/bin/prometheus", "--config.file=" + (work / "prometheus.yml").string(),
                "--storage.tsdb.path=" + (work / "data").string(),
                "--web.listen-address=127.0.0.1:" + std::to_string(prom_port), "--log.level=warn"};
  spawn.stdout_to = work / "prometheus.log";
  spawn.stderr_to = work / "prometheus.log";
  ipm::test::ChildProcess prometheus(spawn);
  // The job scrapes every 15 s, the first time at an offset within that interval.
  ASSERT_TRUE(
      wait_until([&] { return query(prom_port, "up%7Bjob%3D%22ipmanager%22%7D") == 1; }, 60s))
      << read_file(work / "prometheus.log");
  EXPECT_EQ(query(prom_port, "count(ipmanager_all_list)"), 3);
}

TEST(ShippedFilesTest, demo_sh_shows_the_pool_blocks_ips_and_stops_everything_on_ctrl_c) {
  ipm::test::TempDir work;
  SpawnOptions o;
  o.argv = {"bash", kSource + "/deploy/demo.sh"};
  o.extra_env = {std::string("IPM_DEMO_BINARY=") + IPM_EXECUTABLE, "TERM=dumb"};
  o.stdout_to = work / "demo.out";
  o.stderr_to = work / "demo.out";
  const std::filesystem::path nginx_pid = "/tmp/ipmanager-demo/nginx.pid";
  {
    ipm::test::ChildProcess demo(o);
    const auto out = [&] { return read_file(work / "demo.out"); };
    // The live table lists the ten IPs; within the first blocking round (10 s in) the
    // target blocks three and they leave rotation.
    ASSERT_TRUE(wait_until([&] { return out().find("127.0.1.10") != std::string::npos; }, 60s))
        << out();
    EXPECT_TRUE(wait_until([&] { return out().find("cooling") != std::string::npos; }, 60s))
        << out().substr(out().size() > 3000 ? out().size() - 3000 : 0);
    // Ctrl-C: SIGINT to the whole foreground process group (the script and its children).
    ASSERT_EQ(::kill(-demo.pid(), SIGINT), 0);
    ASSERT_TRUE(demo.wait_exit(30s));
    EXPECT_THAT(out(), HasSubstr("demo stopped"));
  }
  // Everything it started is gone: nginx (a daemon of its own) and ipmanager's ports.
  bool nginx_gone = true;
  const std::string pid_text = read_file(nginx_pid);
  if (!pid_text.empty()) {
    const pid_t pid = std::stoi(pid_text);
    nginx_gone = wait_until([&] { return ::kill(pid, 0) != 0; }, 15s);
    if (!nginx_gone)
      ::kill(pid, SIGKILL);  // the demo left it: stop it for the next test
  }
  EXPECT_TRUE(nginx_gone) << "the demo's nginx survived Ctrl-C";
  EXPECT_TRUE(
      wait_until([&] { return !ipm::test::wait_for_tcp_port("127.0.0.1", 9095, {}); }, 15s));
}

}  // namespace
