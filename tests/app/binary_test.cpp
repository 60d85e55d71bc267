// Runs the built ipmanager binary the way an operator does and checks exit codes and messages.
#include <sys/wait.h>

#include <csignal>
#include <iterator>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "tests/e2e/ipmanager_process.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/temp_dir.hpp"

namespace {

using ipm::test::bound_ports;
using testing::HasSubstr;
namespace fs = std::filesystem;

struct Outcome {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

// Runs the binary with `args` (shell-quoted by the caller) and an optional environment
// prefix, bounded: a binary that hangs is killed and the test fails.
Outcome run_ipmanager(const std::string& args, const std::string& env = "") {
  const fs::path out =
      fs::temp_directory_path() / ("ipm-binary-test-" + std::to_string(::getpid()) + ".out");
  ipm::test::SpawnOptions options;
  options.argv = {"/bin/sh", "-c", env + " " + IPM_EXECUTABLE + " " + args + " 2>&1"};
  options.stdout_to = out;
  Outcome r;
  r.exit_code = ipm::test::run_command(options, std::chrono::seconds(30));
  r.output = ipm::test::read_file(out);
  fs::remove(out);
  return r;
}

class BinaryTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        fs::temp_directory_path() / ("ipm-binary-test-" + std::to_string(::getpid()) + "-" +
                                     testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path write(const std::string& name, const std::string& text) {
    const fs::path p = dir_ / name;
    std::ofstream(p) << text;
    return p;
  }

  // A two-IP pool config in the Go tool's style.
  fs::path upstream() {
    return write(
        "upstream.conf",
        "server { listen 19001; server_name 127.0.1.1; location / { proxy_bind 127.0.1.1; } }\n"
        "server { listen 19002; server_name 127.0.1.2; location / { proxy_bind 127.0.1.2; } }\n");
  }

  fs::path dir_;
};

TEST_F(BinaryTest, check_accepts_the_go_tools_config_json) {
  const auto cfg = write("config.json", R"({
    "mode": "serve", "debug": true, "probe_port": "9095", "proxy_port": "9096",
    "next": "127.0.0.1", "scan_interval_min": 5,
    "access_log_path": "/var/log/nginx/host.access.log",
    "upstream_conf_path": ")" + upstream().string() +
                                            R"(",
    "max_history_log_each_ip": 1000, "max_cool_down_log_each_ip": 1000, "cool_down_min": 10,
    "dial_timeout": 15, "max_connection_timeout": 100, "strategy": "consecutive",
    "consecutive_failure": 3})");
  const Outcome r = run_ipmanager("--config " + cfg.string() + " --check");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("config: ok"));
  EXPECT_THAT(r.output, HasSubstr("upstream config: ok: 2 egress IPs"));
  EXPECT_THAT(r.output, HasSubstr("log format: ok"));
}

// The enhanced go-dispatch-proxy's example file and its README's example, unchanged, in a
// dispatch-mode config (no nginx pool): --check accepts them and counts their rules.
TEST_F(BinaryTest, check_accepts_the_enhanced_forks_source_ip_rules_examples) {
  for (const char* fixture : {"source_ip_rules.example.json", "source_ip_rules.readme.json"}) {
    const auto cfg =
        write("c.yaml", std::string("listen: [{type: mixed, port: 18080}]\n"
                                    "egresses: [{kind: source, address: 127.0.1.1}]\n"
                                    "state_dir: ") +
                            (dir_ / "state").string() + "\nsource_ip_rules: " + IPM_SOURCE_DIR +
                            "/tests/clients/" + fixture + "\n");
    const Outcome r = run_ipmanager("--config " + cfg.string() + " --check");
    EXPECT_EQ(r.exit_code, 0) << fixture << ": " << r.output;
    EXPECT_THAT(r.output, HasSubstr("upstream config: none (dispatch mode: 1 front ends, 1 "
                                    "egresses)"));
    EXPECT_THAT(r.output, HasSubstr("source_ip_rules: ok: 4 rules for 2 egresses"));
  }
  // A broken one fails the check, naming the entry.
  const auto bad =
      write("bad.json", R"({"192.168.1.10:0": {"10.0.0.0/33": {"contention_ratio": 1}}})");
  const auto cfg = write("c.yaml",
                         "listen: [{type: mixed, port: 18080}]\n"
                         "egresses: [{kind: source, address: 127.0.1.1}]\n"
                         "source_ip_rules: " +
                             bad.string() + "\n");
  const Outcome r = run_ipmanager("--config " + cfg.string() + " --check");
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr(R"(["192.168.1.10:0"]["10.0.0.0/33"])"));
}

TEST_F(BinaryTest, check_rejects_a_broken_upstream_config_with_file_and_line) {
  const auto conf = write("broken.conf", "server {\n  listen 19001;\n  proxy_bind 127.0.1.1;\n");
  const auto cfg = write("c.yaml", "upstream_conf_path: " + conf.string() + "\n");
  const Outcome r = run_ipmanager("--config " + cfg.string() + " --check");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("broken.conf:"));
}

TEST_F(BinaryTest, check_rejects_a_log_format_without_a_time) {
  const auto cfg = write("c.yaml", "upstream_conf_path: " + upstream().string() +
                                       "\nlog_format: '$server_port $status'\n");
  const Outcome r = run_ipmanager("--config " + cfg.string() + " --check");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("log_format"));
}

TEST_F(BinaryTest, reload_names_keys_that_wait_for_a_restart_and_keeps_a_good_config) {
  const auto cfg = write("c.yaml", "upstream_conf_path: " + upstream().string() +
                                       "\naccess_log_path: " + (dir_ / "access.log").string() +
                                       "\nprobe_port: 0\nproxy_port: 0\nstate_dir: " +
                                       (dir_ / "state").string() + "\n");
  ipm::test::SpawnOptions options;
  options.argv = {IPM_EXECUTABLE, "--config", cfg.string()};
  options.stderr_to = dir_ / "stderr.log";
  ipm::test::ChildProcess ipm(options);
  const auto stderr_log = [&] { return ipm::test::read_file(dir_ / "stderr.log"); };
  const auto running = [&] { return stderr_log().find("ipmanager running") != std::string::npos; };
  ASSERT_TRUE(ipm::test::wait_until(running, std::chrono::seconds(20))) << stderr_log();
  const auto ports = bound_ports(stderr_log());
  ASSERT_TRUE(ports) << stderr_log();
  EXPECT_EQ(ipm::test::http_get("127.0.0.1", ports->probe, "/ping").body, "pong");
  const auto shown = [&](const std::string& key) {
    const auto j =
        boost::json::parse(ipm::test::http_get("127.0.0.1", ports->probe, "/config").body);
    return boost::json::serialize(j.at(key));
  };

  // A port change waits for a restart, and the log says so; the running port stays.
  std::ofstream(cfg) << "upstream_conf_path: " << upstream().string()
                     << "\naccess_log_path: " << (dir_ / "access.log").string()
                     << "\nproxy_port: 0\nprobe_port: " << ports->probe + 1
                     << "\nconsecutive_failure: 7\nstate_dir: " << (dir_ / "state").string()
                     << "\n";
  ASSERT_TRUE(ipm.signal(SIGHUP));
  ASSERT_TRUE(ipm::test::wait_until(
      [&] { return stderr_log().find("configuration reloaded") != std::string::npos; },
      std::chrono::seconds(10)));
  EXPECT_THAT(stderr_log(), HasSubstr("SIGHUP: configuration reloaded: applied "
                                      "consecutive_failure; on restart: probe_port"));
  EXPECT_EQ(shown("probe_port"), "\"0\"") << "the running config";
  EXPECT_EQ(ipm::test::http_get("127.0.0.1", ports->probe, "/ping").body, "pong");

  // A broken config on SIGHUP is reported; the running one stays.
  std::ofstream(cfg) << "upstream_conf_path: [\n";
  ASSERT_TRUE(ipm.signal(SIGHUP));
  ASSERT_TRUE(
      ipm::test::wait_until([&] { return stderr_log().find("reload failed") != std::string::npos; },
                            std::chrono::seconds(10)));
  EXPECT_EQ(shown("consecutive_failure"), "7");
  EXPECT_EQ(ipm::test::http_get("127.0.0.1", ports->probe, "/ping").body, "pong");

  ASSERT_TRUE(ipm.signal(SIGTERM));
  ASSERT_TRUE(ipm.wait_exit(std::chrono::seconds(20)));
  ASSERT_TRUE(ipm.wait_status().has_value());
  EXPECT_TRUE(WIFEXITED(*ipm.wait_status()));
  EXPECT_EQ(WEXITSTATUS(*ipm.wait_status()), 0);
}

TEST_F(BinaryTest, check_rejects_a_bad_key_naming_it_with_exit_1) {
  const auto cfg = write("bad.yaml", "upstream_conf_path: /x\ncool_down_mins: 10\n");
  const Outcome r = run_ipmanager("--config " + cfg.string() + " --check");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("cool_down_mins"));
  EXPECT_THAT(r.output, HasSubstr("did you mean 'cool_down_min'"));
  EXPECT_THAT(r.output, testing::Not(HasSubstr("terminate")));
}

TEST_F(BinaryTest, check_reports_yaml_syntax_error_with_line) {
  const auto cfg = write("broken.yaml", "upstream_conf_path: /x\nmode: [serve\n");
  const Outcome r = run_ipmanager("--config " + cfg.string() + " --check");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_THAT(r.output, testing::ContainsRegex("broken\\.yaml:[0-9]+:[0-9]+: syntax error"));
}

TEST_F(BinaryTest, missing_config_file_is_one_line_and_exit_2) {
  const Outcome r = run_ipmanager("--config " + (dir_ / "nope.json").string());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.output, HasSubstr("cannot read config file"));
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
}

TEST_F(BinaryTest, unreadable_config_directory_is_exit_2) {
  const Outcome r = run_ipmanager("--config " + dir_.string());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.output, HasSubstr("is a directory"));
}

TEST_F(BinaryTest, bad_flags_are_exit_2) {
  EXPECT_EQ(run_ipmanager("").exit_code, 2);
  EXPECT_EQ(run_ipmanager("--config x --port 0").exit_code, 2);
  EXPECT_EQ(run_ipmanager("--bogus").exit_code, 2);
}

TEST_F(BinaryTest, port_flag_and_environment_override_the_file) {
  const auto cfg =
      write("c.yaml", "upstream_conf_path: " + upstream().string() + "\nprobe_port: 9000\n");
  Outcome r = run_ipmanager("--config " + cfg.string() + " --port 9200 --check");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("probe 127.0.0.1:9200"));
  r = run_ipmanager("--config " + cfg.string() + " --check", "IPM_PROBE_PORT=9300");
  EXPECT_THAT(r.output, HasSubstr("probe 127.0.0.1:9300"));
  r = run_ipmanager("--config " + cfg.string() + " --check", "IPM_PROBE_PORT=huge");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.output, HasSubstr("IPM_PROBE_PORT"));
}

TEST_F(BinaryTest, version_and_help) {
  Outcome r = run_ipmanager("--version");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.output, HasSubstr("ipmanager "));
  r = run_ipmanager("--help");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.output, HasSubstr("--config PATH"));
}

}  // namespace
