#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "tests/support/child_process.hpp"
#include "tests/support/temp_dir.hpp"

namespace ipm::test {

/// A real sshd on 127.0.0.1 (a free port) for tests of `ssh -D` upstreams, go-dispatch-proxy's
/// own tunnel example. Its host key, user key, authorized_keys and config live in a temporary
/// folder; it lets in only the current user, by that key, and allows only local forwarding.
/// Run as root, sshd wants its privilege separation directory /run/sshd, which Debian makes
/// only when the host's ssh service starts: the test's sshd runs in a mount namespace of its
/// own with a tmpfs on /run, so the host's /run and its sshd are left alone.
/// Throws std::runtime_error when it does not come up. Stopped (by its PID) on destruction;
/// stop the tunnels first. Not thread-safe.
class SshServer {
 public:
  SshServer();
  ~SshServer();
  SshServer(const SshServer&) = delete;
  SshServer& operator=(const SshServer&) = delete;

  std::uint16_t port() const { return port_; }

  /// `ssh -N -D 127.0.0.1:socks_port` to this server as the current user, with the host key
  /// pinned: a SOCKS5 proxy on socks_port whose connections leave from the sshd. Returns once
  /// the port accepts connections; throws when it does not within a few seconds.
  std::unique_ptr<ChildProcess> dynamic_forward(std::uint16_t socks_port) const;

 private:
  TempDir dir_{"ipm-sshd"};
  std::uint16_t port_ = 0;
  std::unique_ptr<ChildProcess> sshd_;
};

}  // namespace ipm::test
