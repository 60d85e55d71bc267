#include "tests/support/ssh_server.hpp"

#include <pwd.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>

namespace ipm::test {
namespace {

using namespace std::chrono_literals;

void keygen(const std::filesystem::path& key, const std::filesystem::path& log) {
  if (run_command(SpawnOptions{{"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "ipm-test",
                                "-f", key.string()},
                               {},
                               log,
                               log},
                  30s) != 0)
    throw std::runtime_error("ssh-keygen failed: " + read_file(log));
}

std::string current_user() {
  const passwd* pw = ::getpwuid(::geteuid());
  if (pw == nullptr)
    throw std::runtime_error("the current user has no passwd entry");
  return pw->pw_name;
}

}  // namespace

SshServer::SshServer() {
  const auto log = dir_ / "sshd.log";
  keygen(dir_ / "host_key", log);
  keygen(dir_ / "user_key", log);
  write_file(dir_ / "authorized_keys", read_file(dir_ / "user_key.pub"));
  port_ = free_tcp_port();
  // StrictModes would refuse the key files under the world-writable temp dir.
  write_file(dir_ / "sshd_config",
             "ListenAddress 127.0.0.1\n"
             "Port " +
                 std::to_string(port_) +
                 "\n"
                 "HostKey " +
                 (dir_ / "host_key").string() +
                 "\n"
                 "AuthorizedKeysFile " +
                 (dir_ / "authorized_keys").string() +
                 "\n"
                 "AllowUsers " +
                 current_user() +
                 "\n"
                 "PidFile none\nUsePAM no\nStrictModes no\n"
                 "PasswordAuthentication no\nKbdInteractiveAuthentication no\n"
                 "PermitRootLogin prohibit-password\n"
                 "AllowTcpForwarding local\nX11Forwarding no\nPermitTTY no\n"
                 "AllowAgentForwarding no\nLogLevel ERROR\n");
  write_file(dir_ / "known_hosts",
             "[127.0.0.1]:" + std::to_string(port_) + " " + read_file(dir_ / "host_key.pub"));
  const std::string sshd = "/usr/sbin/sshd -D -e -f " + (dir_ / "sshd_config").string();
  std::vector<std::string> argv = {"sh", "-c", "exec " + sshd};
  if (::geteuid() == 0) {
    argv = {
        "unshare",
        "--mount",
        "--propagation",
        "private",
        "--",
        "sh",
        "-c",
        "mount -t tmpfs -o mode=755 ipm-test-sshd /run && mkdir -m 755 /run/sshd && exec " + sshd};
  }
  sshd_ = std::make_unique<ChildProcess>(SpawnOptions{argv, {}, log, log});
  if (!wait_for_tcp_port("127.0.0.1", port_, 10s))
    throw std::runtime_error("sshd did not start: " + read_file(log));
}

SshServer::~SshServer() {
  sshd_->stop();
}

std::unique_ptr<ChildProcess> SshServer::dynamic_forward(std::uint16_t socks_port) const {
  const auto log = dir_ / ("ssh-" + std::to_string(socks_port) + ".log");
  auto ssh = std::make_unique<ChildProcess>(
      SpawnOptions{{"ssh",       "-F",
                    "/dev/null", "-N",
                    "-D",        "127.0.0.1:" + std::to_string(socks_port),
                    "-p",        std::to_string(port_),
                    "-i",        (dir_ / "user_key").string(),
                    "-o",        "BatchMode=yes",
                    "-o",        "StrictHostKeyChecking=yes",
                    "-o",        "UserKnownHostsFile=" + (dir_ / "known_hosts").string(),
                    "-o",        "ExitOnForwardFailure=yes",
                    "-o",        "ConnectTimeout=5",
                    "-o",        "LogLevel=ERROR",
                    "-l",        current_user(),
                    "127.0.0.1"},
                   {},
                   log,
                   log});
  if (!wait_for_tcp_port("127.0.0.1", socks_port, 10s))
    throw std::runtime_error("ssh -D did not listen: " + read_file(log));
  return ssh;
}

}  // namespace ipm::test
