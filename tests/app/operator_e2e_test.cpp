// The ipmanager binary with broken inputs, as an operator meets them (issue 14): a log it
// cannot read or that does not exist yet, a pool config that breaks under a running
// process, and systemd's readiness protocol through a NOTIFY_SOCKET the test binds.
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/support/child_process.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/temp_dir.hpp"

namespace {

using namespace std::chrono_literals;
using ipm::test::read_file;
using ipm::test::write_file;
using testing::HasSubstr;
using testing::Not;
namespace fs = std::filesystem;

constexpr const char* kPool =
    "server { listen 19001; server_name 127.0.1.1; location / { proxy_bind 127.0.1.1; } }\n"
    "server { listen 19002; server_name 127.0.1.2; location / { proxy_bind 127.0.1.2; } }\n";

// Runs the binary as `nobody`: root reads every file whatever its mode.
std::vector<std::string> as_nobody(std::vector<std::string> argv) {
  argv.insert(argv.begin(), {"setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"});
  return argv;
}

// The datagram socket systemd would give the service; collects what it is told.
class NotifySocket {
 public:
  explicit NotifySocket(const fs::path& path) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
      throw std::runtime_error("bind " + path.string());
    ::chmod(path.c_str(), 0777);  // the service may run as nobody
  }
  ~NotifySocket() { ::close(fd_); }
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;

  const fs::path& path() const { return path_; }

  /// Waits up to `timeout` for a message holding `needle` among those not consumed yet;
  /// every message read up to it is consumed.
  bool wait_for(const std::string& needle, std::chrono::milliseconds timeout) {
    return ipm::test::wait_until(
        [&] {
          char buf[4096];
          for (;;) {
            const ssize_t n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
            if (n <= 0)
              return false;
            const std::string message(buf, static_cast<std::size_t>(n));
            received_ += message + "\n--\n";
            if (message.find(needle) != std::string::npos)
              return true;
          }
        },
        timeout);
  }
  const std::string& received() const { return received_; }

 private:
  fs::path path_;
  int fd_ = -1;
  std::string received_;
};

class OperatorTest : public testing::Test {
 protected:
  OperatorTest() {
    write_file(pool_, kPool);
    probe_port_ = ipm::test::free_tcp_port_run(2);
  }

  // The config, with the log at `log_` and `extra` YAML appended.
  fs::path config(const std::string& extra = "") {
    write_file(dir_ / "config.yaml",
               "upstream_conf_path: " + pool_.string() + "\naccess_log_path: " + log_.string() +
                   "\nprobe_port: " + std::to_string(probe_port_) +
                   "\nproxy_port: " + std::to_string(probe_port_ + 1) +
                   "\nreconcile_interval: 100ms\nstate_dir: " + (dir_ / "state").string() + "\n" +
                   extra);
    return dir_ / "config.yaml";
  }

  int check(bool nobody, std::string& output) {
    ipm::test::SpawnOptions spawn;
    spawn.argv = {IPM_EXECUTABLE, "--config", config().string(), "--check"};
    if (nobody)
      spawn.argv = as_nobody(spawn.argv);
    spawn.stdout_to = dir_ / "check.out";
    spawn.stderr_to = dir_ / "check.out";
    const int code = ipm::test::run_command(spawn);
    output = read_file(dir_ / "check.out");
    return code;
  }

  void start(bool nobody = false, const std::string& extra = "") {
    ipm::test::SpawnOptions spawn;
    spawn.argv = {IPM_EXECUTABLE, "--config", config(extra).string()};
    if (nobody)
      spawn.argv = as_nobody(spawn.argv);
    spawn.extra_env = {"NOTIFY_SOCKET=" + notify_.path().string()};
    spawn.stderr_to = dir_ / "ipmanager.log";
    process_ = std::make_unique<ipm::test::ChildProcess>(spawn);
    ASSERT_TRUE(ipm::test::wait_for_tcp_port("127.0.0.1", probe_port_, 10s)) << log_text();
  }

  ipm::test::HttpResponse get(const std::string& path) const {
    return ipm::test::http_get("127.0.0.1", probe_port_, path);
  }
  ipm::test::HttpResponse post(const std::string& path) const {
    return ipm::test::http_request("POST", "127.0.0.1", probe_port_, path);
  }
  std::string log_text() const { return read_file(dir_ / "ipmanager.log"); }
  bool log_says(const std::string& text) const {
    return ipm::test::wait_until([&] { return log_text().find(text) != std::string::npos; }, 5s);
  }
  std::string gauge(const std::string& series) const {
    const std::string metrics = get("/metrics").body;
    const auto at = metrics.find("\n" + series + " ");
    if (at == std::string::npos)
      return "<absent>";
    const auto start = at + series.size() + 2;
    return metrics.substr(start, metrics.find('\n', start) - start);
  }

  ipm::test::TempDir dir_;
  fs::path pool_ = dir_ / "pool.conf";
  fs::path log_ = dir_ / "access.log";
  std::uint16_t probe_port_ = 0;
  NotifySocket notify_{dir_ / "notify"};
  std::unique_ptr<ipm::test::ChildProcess> process_;
};

TEST_F(OperatorTest, check_fails_naming_a_log_the_running_user_cannot_read) {
  if (::geteuid() != 0)
    GTEST_SKIP() << "needs root to run the check as another user";
  write_file(log_, "");
  ::chmod(log_.c_str(), 0600);
  std::string out;
  EXPECT_EQ(check(true, out), 1) << out;
  EXPECT_THAT(out, HasSubstr("access log " + log_.string() + ": cannot be read as uid " +
                             std::to_string(65534) + ": Permission denied"));
}

TEST_F(OperatorTest, check_fails_on_a_log_path_that_is_a_directory) {
  fs::create_directory(log_);
  std::string out;
  EXPECT_EQ(check(false, out), 1) << out;
  EXPECT_THAT(out, HasSubstr("access log " + log_.string() + ": cannot be read"));
  EXPECT_THAT(out, HasSubstr("not a regular file"));
}

TEST_F(OperatorTest, check_warns_about_a_missing_log_and_passes) {
  std::string out;
  EXPECT_EQ(check(false, out), 0) << out;
  EXPECT_THAT(out, HasSubstr("warning: access log " + log_.string() + " does not exist yet"));
  EXPECT_THAT(out, HasSubstr("access logs: ok: 0 of 1 readable"));
}

TEST_F(OperatorTest, check_names_every_missing_per_ip_log) {
  log_ = dir_ / "egress.%s.log";
  write_file(dir_ / "egress.127.0.1.1.log", "");
  std::string out;
  EXPECT_EQ(check(false, out), 0) << out;
  EXPECT_THAT(out, HasSubstr("egress.127.0.1.2.log does not exist yet"));
  EXPECT_THAT(out, HasSubstr("access logs: ok: 1 of 2 readable"));
}

TEST_F(OperatorTest, ready_and_sd_notify_wait_for_a_missing_log_then_follow_reloads_and_stop) {
  start();
  const std::string file_open = "ipmanager_tail_file_open{file=\"" + log_.string() + "\"}";
  const auto waiting = get("/ready");
  EXPECT_EQ(waiting.status, 503);
  EXPECT_THAT(waiting.body, HasSubstr("access log " + log_.string() + ": No such file"));
  EXPECT_EQ(gauge(file_open), "0");
  EXPECT_TRUE(log_says("not ready: access log " + log_.string()));
  EXPECT_TRUE(notify_.wait_for("STATUS=not ready: access log", 5s)) << notify_.received();
  EXPECT_FALSE(notify_.wait_for("READY=1", 1s)) << "ready without its log";

  write_file(log_, "");
  ASSERT_TRUE(notify_.wait_for("READY=1", 5s)) << notify_.received() << log_text();
  EXPECT_EQ(get("/ready").status, 200);
  EXPECT_EQ(gauge(file_open), "1");
  const std::string last_line =
      "ipmanager_tail_last_line_timestamp_seconds{file=\"" + log_.string() + "\"}";
  EXPECT_EQ(gauge(last_line), "0");
  write_file(log_, "a line that matches no format\n");
  ASSERT_TRUE(ipm::test::wait_until([&] { return gauge(last_line) != "0"; }, 5s));
  EXPECT_GT(std::stod(gauge(last_line)), 1.7e9);

  process_->signal(SIGHUP);
  EXPECT_TRUE(notify_.wait_for("RELOADING=1", 5s)) << notify_.received();
  EXPECT_TRUE(notify_.wait_for("READY=1", 5s)) << notify_.received();
  process_->signal(SIGTERM);
  EXPECT_TRUE(notify_.wait_for("STOPPING=1", 5s)) << notify_.received();
  EXPECT_TRUE(process_->wait_exit(10s));
}

TEST_F(OperatorTest, a_log_the_service_cannot_read_keeps_it_not_ready_and_says_why) {
  if (::geteuid() != 0)
    GTEST_SKIP() << "needs root to run the service as another user";
  write_file(log_, "");
  ::chmod(log_.c_str(), 0600);
  start(true);
  const auto waiting = get("/ready");
  EXPECT_EQ(waiting.status, 503);
  EXPECT_THAT(waiting.body, HasSubstr(log_.string() + ": Permission denied"));
  EXPECT_EQ(gauge("ipmanager_tail_file_open{file=\"" + log_.string() + "\"}"), "0");
  EXPECT_TRUE(log_says("not ready: access log " + log_.string() + ": Permission denied"));
  EXPECT_FALSE(notify_.wait_for("READY=1", 500ms));

  ::chmod(log_.c_str(), 0644);
  EXPECT_TRUE(notify_.wait_for("READY=1", 5s)) << notify_.received() << log_text();
  EXPECT_EQ(get("/ready").status, 200);
}

TEST_F(OperatorTest, renew_with_a_broken_pool_config_answers_500_and_keeps_the_pool) {
  write_file(log_, "");
  start();
  EXPECT_EQ(gauge("ipmanager_config_last_reload_successful"), "1");
  write_file(pool_, "server { listen 19001; proxy_bind 127.0.1.1;\n");  // unclosed block

  const auto failed = post("/api/ip/renew");
  EXPECT_EQ(failed.status, 500) << failed.body;
  EXPECT_THAT(failed.body, HasSubstr("rescan failed, keeping the running pool"));
  EXPECT_THAT(failed.body, HasSubstr(pool_.string()));
  EXPECT_EQ(gauge("ipmanager_config_last_reload_successful"), "0");
  EXPECT_THAT(get("/probe").body, HasSubstr("127.0.1.2"));

  write_file(pool_, std::string(kPool) +
                        "server { listen 19003; location / { proxy_bind 127.0.1.3; } }\n");
  const auto ok = post("/api/ip/renew");
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body, "Renewed");
  EXPECT_EQ(gauge("ipmanager_config_last_reload_successful"), "1");
  EXPECT_TRUE(log_says("rescan: 3 egress IPs, 1 added (127.0.1.3), 0 removed"));
}

TEST_F(OperatorTest, sighup_with_a_broken_pool_config_is_an_error_without_a_success_line) {
  write_file(log_, "");
  start();
  const double started = std::stod(gauge("ipmanager_config_last_reload_success_timestamp_seconds"));
  write_file(pool_, "server { listen 19001; proxy_bind 127.0.1.1;\n");
  config("debug: true\napi_token: s3cret\n");
  process_->signal(SIGHUP);
  ASSERT_TRUE(log_says("SIGHUP: reload failed, keeping the running configuration and pool"));
  EXPECT_THAT(log_text(), Not(HasSubstr("configuration reloaded")));
  EXPECT_EQ(gauge("ipmanager_config_last_reload_successful"), "0");

  // Fixed: every changed key is named, the token without its value, live or not.
  write_file(pool_, kPool);
  config("debug: true\napi_token: s3cret\nprobe_max_connections: 10\n");
  std::this_thread::sleep_for(1100ms);  // a timestamp that must move, at 1 s resolution or finer
  process_->signal(SIGHUP);
  ASSERT_TRUE(
      log_says("SIGHUP: configuration reloaded: applied debug, api_token; on restart: "
               "probe_max_connections; pool config: 2 egress IPs, 0 added, 0 removed"))
      << log_text();
  EXPECT_THAT(log_text(), Not(HasSubstr("s3cret")));
  EXPECT_EQ(gauge("ipmanager_config_last_reload_successful"), "1");
  EXPECT_GT(std::stod(gauge("ipmanager_config_last_reload_success_timestamp_seconds")), started);
}

TEST_F(OperatorTest, bans_and_weights_survive_a_restart_and_a_corrupt_journal_is_set_aside) {
  write_file(log_, "");
  start();
  auto r = post("/api/ip/127.0.1.1/ban?for=1h&reason=abuse-report");
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(post("/api/ip/127.0.1.2/weight?value=0").status, 200);
  EXPECT_TRUE(log_says("operator ban 127.0.1.1 for 1h by 127.0.0.1: abuse-report"));
  EXPECT_TRUE(log_says("operator weight 127.0.1.2 to 0 (drained) by 127.0.0.1"));
  ASSERT_TRUE(process_->stop());

  start();  // same state_dir
  EXPECT_TRUE(log_says("2 operator actions in force"));
  const std::string ip1 = get("/api/ip/127.0.1.1").body;
  EXPECT_THAT(ip1, HasSubstr("\"state\":\"banned\""));
  EXPECT_THAT(ip1, HasSubstr("abuse-report"));
  EXPECT_THAT(get("/api/ip/127.0.1.2").body, HasSubstr("\"weight\":0"));
  ASSERT_EQ(post("/api/ip/127.0.1.1/unban").status, 200);
  ASSERT_TRUE(process_->stop());

  // A torn append and a line edited by hand: reported, set aside, startup goes on.
  {
    std::ofstream out(dir_ / "state" / "actions.journal", std::ios::app);
    out << "this is not json\n{\"action\":\"ban\",\"ip\":\"127.0";
  }
  start();
  EXPECT_TRUE(log_says("actions.journal:4: not JSON"));
  EXPECT_TRUE(log_says("set aside as"));
  EXPECT_TRUE(log_says("1 operator actions in force"));  // the weight; the ban was lifted
  EXPECT_THAT(get("/api/ip/127.0.1.1").body, HasSubstr("\"state\":\"available\""));
  EXPECT_THAT(get("/api/ip/127.0.1.2").body, HasSubstr("\"weight\":0"));
  EXPECT_EQ(get("/ready").status, 200);
}

}  // namespace
