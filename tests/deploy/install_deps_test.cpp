// deploy/install-deps.sh on an egress host, whose running nginx is the pool itself: whatever
// the script installs, that nginx keeps answering, and the host's policy-rc.d is as it was.
// The real runs use the real apt-get with a package the script is told is missing (it is
// installed, so nothing changes on the host); the policy-rc.d runs use a stand-in apt-get that
// records what a package's maintainer script would have been told.
#include <unistd.h>

#include <filesystem>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/support/child_process.hpp"
#include "tests/support/nginx_pool.hpp"
#include "tests/support/temp_dir.hpp"

namespace {

using namespace std::chrono_literals;
using ipm::test::read_file;
using ipm::test::write_file;
using testing::HasSubstr;
using testing::Not;
namespace fs = std::filesystem;

const std::string kScript = std::string(IPM_SOURCE_DIR) + "/deploy/install-deps.sh";
const fs::path kHostPolicy = "/usr/sbin/policy-rc.d";

struct ScriptRun {
  int exit_code = -1;
  std::string output;
};

ScriptRun install_deps(const std::vector<std::string>& args, const std::vector<std::string>& env,
                       const fs::path& out) {
  ipm::test::SpawnOptions spawn;
  spawn.argv = {"bash", kScript};
  spawn.argv.insert(spawn.argv.end(), args.begin(), args.end());
  spawn.extra_env = env;
  spawn.stdout_to = out;
  spawn.stderr_to = out;
  ScriptRun r;
  r.exit_code = ipm::test::run_command(spawn, 600s);
  r.output = read_file(out);
  return r;
}

bool answers(const ipm::test::NginxPool& pool) {
  for (const auto port : pool.ports()) {
    if (pool.get(port, "/test").status != 200)
      return false;
  }
  return true;
}

// The host's policy-rc.d as text, or a marker when it has none.
std::string host_policy() {
  return fs::exists(kHostPolicy) ? read_file(kHostPolicy) : "<none>";
}

void real_run_keeps_nginx(const std::vector<std::string>& args, const std::string& missing) {
  if (::geteuid() != 0)
    GTEST_SKIP() << "apt-get needs root";
  ipm::test::NginxPool pool;
  ASSERT_TRUE(answers(pool));
  const pid_t master = pool.master_pid();
  const std::string policy_before = host_policy();
  ipm::test::TempDir dir;

  const ScriptRun run =
      install_deps(args, {"IPM_INSTALL_PRETEND_MISSING=" + missing}, dir / "install.log");

  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr("installing " + missing)) << "the package was not missing";
  EXPECT_EQ(::kill(master, 0), 0) << "the nginx master is gone";
  EXPECT_TRUE(answers(pool)) << "nginx stopped answering";
  EXPECT_EQ(host_policy(), policy_before);
}

TEST(InstallDepsTest, deploy_path_with_a_missing_package_leaves_the_running_nginx_answering) {
  real_run_keeps_nginx({}, "pkg-config");
}

TEST(InstallDepsTest, test_path_with_a_missing_package_leaves_the_running_nginx_answering) {
  real_run_keeps_nginx({"--test"}, "jq");
}

// A stand-in for apt-get: logs its arguments and what the policy-rc.d in force answers for
// "nginx start", as invoke-rc.d asks it; fails its install when FAKE_APT_FAIL is set.
class InstallPolicyTest : public testing::Test {
 protected:
  void SetUp() override {
    write_file(dir_ / "apt-get",
               "#!/bin/sh\n"
               "{ echo \"apt-get $*\"\n"
               "  if [ -x \"$IPM_POLICY_RC_D\" ]; then \"$IPM_POLICY_RC_D\" nginx start;"
               " echo \"policy-rc.d answers $?\"; else echo 'no policy-rc.d'; fi\n"
               "} >>\"$FAKE_APT_LOG\"\n"
               "case \" $* \" in *\" install \"*) [ -z \"$FAKE_APT_FAIL\" ] || exit 100 ;; esac\n"
               "exit 0\n");
    fs::permissions(dir_ / "apt-get", fs::perms::owner_all);
  }

  ScriptRun run(const std::vector<std::string>& args, bool fail = false,
                const std::string& missing = "jq pkg-config") {
    std::vector<std::string> env = {
        "IPM_INSTALL_PRETEND_MISSING=" + missing, "IPM_APT_GET=" + (dir_ / "apt-get").string(),
        "IPM_POLICY_RC_D=" + policy_.string(), "FAKE_APT_LOG=" + (dir_ / "apt.log").string()};
    if (fail)
      env.push_back("FAKE_APT_FAIL=1");
    return install_deps(args, env, dir_ / "out.log");
  }
  std::string apt_log() const { return read_file(dir_ / "apt.log"); }

  ipm::test::TempDir dir_;
  fs::path policy_ = dir_ / "policy-rc.d";
};

TEST_F(InstallPolicyTest,
       test_path_forbids_service_starts_while_installing_then_removes_its_policy) {
  if (::geteuid() != 0)
    GTEST_SKIP() << "the script asks for root before installing";
  const ScriptRun r = run({"--test"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(apt_log(), HasSubstr("install -y -qq --no-install-recommends pkg-config jq"));
  EXPECT_THAT(apt_log(), HasSubstr("policy-rc.d answers 101"));
  EXPECT_THAT(apt_log(), Not(HasSubstr("no policy-rc.d")));
  EXPECT_FALSE(fs::exists(policy_)) << "the script left its policy-rc.d behind";
}

TEST_F(InstallPolicyTest, a_failed_install_still_removes_its_policy) {
  if (::geteuid() != 0)
    GTEST_SKIP() << "the script asks for root before installing";
  const ScriptRun r = run({"--demo"}, true);
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_THAT(apt_log(), HasSubstr("policy-rc.d answers 101"));
  EXPECT_FALSE(fs::exists(policy_));
}

TEST_F(InstallPolicyTest, keeps_the_policy_the_host_already_has) {
  if (::geteuid() != 0)
    GTEST_SKIP() << "the script asks for root before installing";
  const std::string host = "#!/bin/sh\n# the host's own\nexit 0\n";
  write_file(policy_, host);
  fs::permissions(policy_, fs::perms::owner_all);
  const ScriptRun r = run({"--test"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(apt_log(), HasSubstr("policy-rc.d answers 0"));
  EXPECT_EQ(read_file(policy_), host);
}

TEST_F(InstallPolicyTest, deploy_path_installs_only_what_ipmanager_needs_and_writes_no_policy) {
  if (::geteuid() != 0)
    GTEST_SKIP() << "the script asks for root before installing";
  // Packages that ship a service, told missing too: the deploy path must not install them.
  const ScriptRun r = run({}, false, "pkg-config nginx-light prometheus logrotate mtail jq");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(apt_log(), HasSubstr("install -y -qq --no-install-recommends pkg-config\n"));
  EXPECT_THAT(apt_log(), HasSubstr("no policy-rc.d"));
  EXPECT_FALSE(fs::exists(policy_));
}

TEST(InstallDepsTest, refuses_an_unknown_argument) {
  ipm::test::TempDir dir;
  const ScriptRun r = install_deps({"--everything"}, {}, dir / "out.log");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.output, HasSubstr("usage:"));
}

}  // namespace
