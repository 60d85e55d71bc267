#include "tests/gateway/netns.hpp"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <filesystem>
#include <stdexcept>

#include "tests/support/child_process.hpp"

namespace ipm::test {

namespace {

int run(const std::vector<std::string>& argv) {
  SpawnOptions o;
  o.argv = argv;
  o.stdout_to = "/dev/null";
  o.stderr_to = "/dev/null";
  return run_command(o, std::chrono::seconds(20));
}

// A test that crashed could not remove its namespaces: those of processes that are gone are
// removed before new ones are made.
void remove_orphans() {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/var/run/netns", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.size() <= 5 || (name.rfind("ipmgw", 0) != 0 && name.rfind("ipmcl", 0) != 0))
      continue;
    const std::string pid = name.substr(5);
    if (pid.find_first_not_of("0123456789") != std::string::npos)
      continue;
    if (!std::filesystem::exists("/proc/" + pid))
      run({"ip", "netns", "del", name});
  }
}

}  // namespace

int NetnsPair::exec_in(const std::string& ns, const std::vector<std::string>& argv) {
  std::vector<std::string> full = {"ip", "netns", "exec", ns};
  full.insert(full.end(), argv.begin(), argv.end());
  return run(full);
}

NetnsPair::NetnsPair() {
  const std::string id = std::to_string(::getpid());
  gateway_ = "ipmgw" + id;
  client_ = "ipmcl" + id;
  if (::geteuid() != 0) {
    error_ = "network namespaces need root";
    return;
  }
  remove_orphans();
  const std::vector<std::vector<std::string>> steps = {
      {"ip", "netns", "add", gateway_},
      {"ip", "netns", "add", client_},
      {"ip", "-n", gateway_, "link", "add", "gw0", "type", "veth", "peer", "name", "cl0", "netns",
       client_},
      {"ip", "-n", gateway_, "link", "set", "lo", "up"},
      {"ip", "-n", client_, "link", "set", "lo", "up"},
      {"ip", "-n", gateway_, "addr", "add", "10.231.0.1/24", "dev", "gw0"},
      {"ip", "-n", client_, "addr", "add", "10.231.0.2/24", "dev", "cl0"},
      {"ip", "-n", gateway_, "addr", "add", "fd31::1/64", "dev", "gw0", "nodad"},
      {"ip", "-n", client_, "addr", "add", "fd31::2/64", "dev", "cl0", "nodad"},
      {"ip", "-n", gateway_, "link", "set", "gw0", "up"},
      {"ip", "-n", client_, "link", "set", "cl0", "up"},
      {"ip", "-n", client_, "route", "add", "default", "via", "10.231.0.1"},
      {"ip", "-n", client_, "-6", "route", "add", "default", "via", "fd31::1"},
  };
  for (const auto& step : steps) {
    if (run(step) != 0) {
      error_ = "could not make the test's namespaces (failed: ip";
      for (std::size_t i = 1; i < step.size(); ++i)
        error_ += " " + step[i];
      error_ += ")";
      return;
    }
  }
}

NetnsPair::~NetnsPair() {
  // Deleting a namespace removes its end of the veth pair, and with it the other end.
  run({"ip", "netns", "del", client_});
  run({"ip", "netns", "del", gateway_});
}

InNetns::InNetns(const std::string& name) {
  home_ = ::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  const int target = ::open(("/var/run/netns/" + name).c_str(), O_RDONLY | O_CLOEXEC);
  if (home_ < 0 || target < 0 || ::setns(target, CLONE_NEWNET) != 0) {
    if (target >= 0)
      ::close(target);
    throw std::runtime_error("cannot enter network namespace " + name);
  }
  ::close(target);
}

InNetns::~InNetns() {
  ::setns(home_, CLONE_NEWNET);
  ::close(home_);
}

}  // namespace ipm::test
