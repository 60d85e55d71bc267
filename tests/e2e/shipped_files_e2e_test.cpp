// The files deploy/ ships, used as shipped: the example config, the systemd unit, the
// Prometheus job, and deploy/demo.sh (bounded, then stopped as with Ctrl-C).
#include "tests/e2e/ipmanager_process.hpp"
#include "tests/e2e/prometheus_query.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <boost/asio/ip/tcp.hpp>
#include <boost/json.hpp>

#include "tests/support/temp_dir.hpp"

namespace {

using ipm::test::IpmanagerProcess;
using ipm::test::NginxPool;
using ipm::test::NginxPoolOptions;
using ipm::test::query;
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
  ASSERT_TRUE(wait_until([&] { return query(prom_port, "up{job=\"ipmanager\"}") == 1.0; }, 60s))
      << read_file(work / "prometheus.log");
  EXPECT_EQ(query(prom_port, "count(ipmanager_all_list)"), 3.0);
}

// The demo's nginx daemonizes (a session of its own): whatever happens to the test, it is
// stopped by the PID in its pid file.
struct DemoNginxReaper {
  const std::filesystem::path pid_file = "/tmp/ipmanager-demo/nginx.pid";
  ~DemoNginxReaper() {
    const std::string text = read_file(pid_file);
    if (text.empty())
      return;
    const pid_t pid = std::stoi(text);
    ::kill(pid, SIGQUIT);
    if (!wait_until([&] { return ::kill(pid, 0) != 0; }, 10s))
      ::kill(pid, SIGKILL);
  }
  // True once the demo's nginx has exited (its pid file is removed then).
  bool gone() const {
    const std::string text = read_file(pid_file);
    return text.empty() || ::kill(std::stoi(text), 0) != 0;
  }
};

// The demo has fixed ports and /tmp/ipmanager-demo: one demo test at a time on this host
// (test runs of other checkouts included), waiting a bounded time for the lock.
class DemoTest : public testing::Test {
 protected:
  void SetUp() override {
    lock_ = ::open("/tmp/ipmanager-demo.lock", O_CREAT | O_RDWR | O_CLOEXEC, 0644);
    ASSERT_GE(lock_, 0);
    ASSERT_TRUE(wait_until([&] { return ::flock(lock_, LOCK_EX | LOCK_NB) == 0; }, 150s))
        << "another demo test holds /tmp/ipmanager-demo.lock";
    // The demo runs on fixed ports (the README's); another ipmanager on them fails it.
    for (const std::uint16_t port : {9095, 9096, 18080})
      ASSERT_FALSE(ipm::test::wait_for_tcp_port("127.0.0.1", port, {}))
          << "port " << port << " is in use: the demo needs it";
    demo_.argv = {"bash", kSource + "/deploy/demo.sh"};
    demo_.extra_env = {std::string("IPM_DEMO_BINARY=") + IPM_EXECUTABLE, "TERM=dumb"};
    demo_.stdout_to = work_ / "demo.out";
    demo_.stderr_to = work_ / "demo.out";
  }
  void TearDown() override {
    if (lock_ >= 0)
      ::close(lock_);
  }
  std::string out() const { return read_file(work_ / "demo.out"); }
  std::string tail() const {
    const std::string all = out();
    return all.substr(all.size() > 3000 ? all.size() - 3000 : 0);
  }

  int lock_ = -1;
  ipm::test::TempDir work_;
  SpawnOptions demo_;
  DemoNginxReaper nginx_;
};

TEST_F(DemoTest, demo_sh_shows_the_pool_blocks_ips_and_stops_everything_on_ctrl_c) {
  {
    ipm::test::ChildProcess demo(demo_);
    // The live table lists the ten IPs; within the first blocking round (10 s in) the
    // target blocks three and they leave rotation.
    ASSERT_TRUE(wait_until([&] { return out().find("127.0.1.10") != std::string::npos; }, 60s))
        << tail() << read_file("/tmp/ipmanager-demo/logs/ipmanager.log");
    EXPECT_TRUE(wait_until([&] { return out().find("cooling") != std::string::npos; }, 60s))
        << tail();
    // Ctrl-C: SIGINT to the whole foreground process group (the script and its children).
    // Under load it once reached the script right after a command of its own had exited, and
    // bash dropped it (that command "handled" it); the demo now only waits in the foreground.
    ASSERT_EQ(::kill(-demo.pid(), SIGINT), 0);
    ASSERT_TRUE(demo.wait_exit(30s)) << tail();
    EXPECT_THAT(out(), HasSubstr("demo stopped"));
  }
  // Everything it started is gone: nginx (a daemon of its own) and ipmanager's ports.
  EXPECT_TRUE(wait_until([&] { return nginx_.gone(); }, 15s)) << "the demo's nginx survived Ctrl-C";
  EXPECT_TRUE(
      wait_until([&] { return !ipm::test::wait_for_tcp_port("127.0.0.1", 9095, {}); }, 15s));
}

// An ipmanager that cannot start (its probe port taken) ends the demo with a message that
// says where to look, instead of an empty table forever; nginx is stopped too.
TEST_F(DemoTest, demo_sh_ends_when_ipmanager_cannot_start) {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor taken(
      io, {boost::asio::ip::make_address("127.0.0.1"), std::uint16_t{9095}});
  const int code = ipm::test::run_command(demo_, 60s);
  EXPECT_EQ(code, 1) << tail();
  EXPECT_THAT(out(), HasSubstr("ipmanager ended by itself"));
  EXPECT_THAT(read_file("/tmp/ipmanager-demo/logs/ipmanager.log"),
              HasSubstr("Address already in use"));
  EXPECT_TRUE(wait_until([&] { return nginx_.gone(); }, 15s)) << "the demo left its nginx";
}

}  // namespace
