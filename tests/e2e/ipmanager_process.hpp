#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <boost/json/value.hpp>

#include "tests/support/child_process.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/nginx_pool.hpp"

namespace ipm::test {

/// The probe and proxy ports of a running ipmanager, read from its startup line
/// ("ipmanager running: ... probe http://HOST:PORT, proxy HOST:PORT -> ...", or with `listen`
/// entries whose first is a tcp front end "..., tcp HOST:PORT").
struct BoundPorts {
  std::uint16_t probe = 0;
  std::uint16_t proxy = 0;
};
/// The ports of the last startup line in `log`, if it has one.
std::optional<BoundPorts> bound_ports(const std::string& log);

/// The real ipmanager binary next to a real NginxPool: its config points at the pool's
/// upstream config and access log, with probe_port and proxy_port 0, so the process binds
/// ports the kernel picks; they are read back from its startup line. Started by the
/// constructor (returns once the startup line is written, i.e. both ports listen), stopped
/// (SIGTERM, then SIGKILL) by the destructor. `extra_yaml` is appended to the config (a
/// probe_port or proxy_port in it replaces the 0). A `launcher` runs the binary (e.g.
/// {"prlimit", "--nofile=96:96", "--"}: it must exec it, so the PID stays the binary's).
class IpmanagerProcess {
 public:
  IpmanagerProcess(const NginxPool& pool, const std::string& extra_yaml,
                   const std::filesystem::path& workdir, bool parse_mode = false,
                   const std::vector<std::string>& launcher = {});
  ~IpmanagerProcess();
  IpmanagerProcess(const IpmanagerProcess&) = delete;
  IpmanagerProcess& operator=(const IpmanagerProcess&) = delete;

  std::uint16_t probe_port() const { return ports_.probe; }
  std::uint16_t proxy_port() const { return ports_.proxy; }
  ChildProcess& process() { return *process_; }
  /// What this process wrote to stderr (not an earlier process's lines in the same file).
  std::string stderr_text() const;
  const std::filesystem::path& config_path() const { return config_; }
  /// The config as first written (the pool's paths, ports 0, the test's extra keys).
  const std::string& config_text() const { return config_text_; }

  /// Sends SIGHUP and waits (bounded) until the reload and the rescan after it are logged.
  /// Returns false if they are not.
  bool reload();

  /// GET on the probe; throws on a transport error.
  HttpResponse probe(const std::string& path) const;
  /// /probe parsed.
  boost::json::value probe_json(const std::string& query = "") const;
  /// IP -> State ("available", "cooling", "probation", "banned") from /probe.
  std::map<std::string, std::string> states() const;
  /// /metrics text.
  std::string metrics() const;

  /// One HTTP request through the proxy (to the pool's target when the pool has a fixed
  /// one); status 0 when no answer came (error says why).
  HttpResponse get_through_proxy(const std::string& path = "/", const Headers& headers = {}) const;
  /// The status of one request through the proxy (0: no answer).
  int request_through_proxy(const std::string& path = "/") const;
  /// `n` sequential requests; returns how many got each status.
  std::map<int, int> traffic(int n) const;
  /// `n` sequential requests; the egress IP each one left from, as the target saw it
  /// (its answer is "ok <source address>"), or "" when it got no 200.
  std::vector<std::string> egress_sequence(int n) const;

 private:
  std::filesystem::path config_;
  std::filesystem::path stderr_;
  std::string config_text_;
  std::uintmax_t stderr_start_ = 0;
  BoundPorts ports_;
  std::unique_ptr<ChildProcess> process_;
};

/// Options of an NginxPool of `egress_count` IPs.
inline NginxPoolOptions pool_of(int egress_count) {
  NginxPoolOptions o;
  o.egress_count = egress_count;
  return o;
}

/// The IPs of a /probe state map that are in `state`.
std::set<std::string> ips_in(const std::map<std::string, std::string>& states,
                             const std::string& state);

/// The value of one sample of a /metrics text (`series` with its labels, as exposed), or -1
/// when the series is absent.
double sample(const std::string& metrics, const std::string& series);

/// How many times `needle` occurs in `text`.
int occurrences(const std::string& text, const std::string& needle);

}  // namespace ipm::test
