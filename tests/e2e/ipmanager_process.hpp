#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <boost/json/value.hpp>

#include "tests/support/child_process.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/nginx_pool.hpp"

namespace ipm::test {

/// The real ipmanager binary next to a real NginxPool: its config points at the pool's
/// upstream config and access log, with free loopback ports for the probe and the proxy.
/// Started by the constructor (waits for the probe), stopped (SIGTERM, then SIGKILL) by the
/// destructor. `extra_yaml` is appended to the generated config. A `launcher` runs the binary
/// (e.g. {"prlimit", "--nofile=96:96", "--"}: it must exec it, so the PID stays the binary's).
class IpmanagerProcess {
 public:
  IpmanagerProcess(const NginxPool& pool, const std::string& extra_yaml,
                   const std::filesystem::path& workdir, bool parse_mode = false,
                   const std::vector<std::string>& launcher = {});
  ~IpmanagerProcess();
  IpmanagerProcess(const IpmanagerProcess&) = delete;
  IpmanagerProcess& operator=(const IpmanagerProcess&) = delete;

  std::uint16_t probe_port() const { return probe_port_; }
  std::uint16_t proxy_port() const { return proxy_port_; }
  ChildProcess& process() { return *process_; }
  std::string stderr_text() const;
  const std::filesystem::path& config_path() const { return config_; }

  /// GET on the probe; throws on a transport error.
  HttpResponse probe(const std::string& path) const;
  /// /probe parsed.
  boost::json::value probe_json(const std::string& query = "") const;
  /// IP -> State ("available", "cooling", "probation", "banned") from /probe.
  std::map<std::string, std::string> states() const;
  /// /metrics text.
  std::string metrics() const;

  /// One HTTP request through the proxy to the pool's target; returns the status (0 when
  /// the connection failed or was closed without an answer).
  int request_through_proxy(const std::string& path = "/") const;
  /// `n` sequential requests; returns how many got each status.
  std::map<int, int> traffic(int n) const;

 private:
  std::filesystem::path config_;
  std::filesystem::path stderr_;
  std::uint16_t probe_port_ = 0;
  std::uint16_t proxy_port_ = 0;
  std::unique_ptr<ChildProcess> process_;
};

/// The IPs of a /probe state map that are in `state`.
std::set<std::string> ips_in(const std::map<std::string, std::string>& states,
                             const std::string& state);

}  // namespace ipm::test
