#pragma once

#include <string>
#include <vector>

namespace ipm::test {

/// Two network namespaces joined by a veth pair, made for one test and removed by the
/// destructor (also when the test fails): "gateway" (10.231.0.1/24 and fd31::1/64) and
/// "client" (10.231.0.2/24, fd31::2/64), the client's default routes via the gateway. Nothing
/// outside them is touched. Needs root and iproute2; `error()` says why when they could not
/// be made.
class NetnsPair {
 public:
  NetnsPair();
  ~NetnsPair();
  NetnsPair(const NetnsPair&) = delete;
  NetnsPair& operator=(const NetnsPair&) = delete;

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  const std::string& gateway() const { return gateway_; }
  const std::string& client() const { return client_; }

  /// Runs `argv` inside namespace `ns` (ip netns exec); returns its exit code.
  static int exec_in(const std::string& ns, const std::vector<std::string>& argv);

 private:
  std::string gateway_;
  std::string client_;
  std::string error_;
};

/// Moves the calling thread into a named namespace for its lifetime (setns), then back.
/// Sockets and netlink contexts the thread opens meanwhile live in that namespace.
class InNetns {
 public:
  explicit InNetns(const std::string& name);
  ~InNetns();
  InNetns(const InNetns&) = delete;
  InNetns& operator=(const InNetns&) = delete;

 private:
  int home_ = -1;
};

}  // namespace ipm::test
