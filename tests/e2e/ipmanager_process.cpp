#include "tests/e2e/ipmanager_process.hpp"

#include <fstream>
#include <iterator>
#include <stdexcept>

#include <boost/json.hpp>

namespace ipm::test {

IpmanagerProcess::IpmanagerProcess(const NginxPool& pool, const std::string& extra_yaml,
                                   const std::filesystem::path& workdir, bool parse_mode,
                                   const std::vector<std::string>& launcher)
    : config_(workdir / "ipmanager.yaml"),
      stderr_(workdir / "ipmanager.stderr"),
      probe_port_(free_tcp_port()),
      proxy_port_(free_tcp_port()) {
  std::ofstream(config_) << "upstream_conf_path: " << (pool.prefix() / "pool.conf").string()
                         << "\naccess_log_path: '" << pool.access_log_pattern() << "'"
                         << "\nprobe_port: " << probe_port_ << "\nproxy_port: " << proxy_port_
                         << "\ndial_timeout: 1s\nreconcile_interval: 200ms\n"
                         << extra_yaml << "\n";
  SpawnOptions options;
  options.argv = launcher;
  options.argv.insert(options.argv.end(), {IPM_EXECUTABLE, "--config", config_.string()});
  if (parse_mode)
    options.argv.emplace_back("--parse");
  options.stderr_to = stderr_;
  process_ = std::make_unique<ChildProcess>(options);
  if (!wait_for_tcp_port("127.0.0.1", probe_port_, std::chrono::seconds(15))) {
    throw std::runtime_error("ipmanager did not start:\n" + stderr_text());
  }
}

IpmanagerProcess::~IpmanagerProcess() {
  process_->stop(std::chrono::seconds(10));
}

std::string IpmanagerProcess::stderr_text() const {
  std::ifstream in(stderr_);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

HttpResponse IpmanagerProcess::probe(const std::string& path) const {
  return http_get("127.0.0.1", probe_port_, path);
}

boost::json::value IpmanagerProcess::probe_json(const std::string& query) const {
  const HttpResponse r = probe("/probe" + query);
  if (r.status != 200)
    throw std::runtime_error("/probe answered " + std::to_string(r.status));
  return boost::json::parse(r.body);
}

std::map<std::string, std::string> IpmanagerProcess::states() const {
  std::map<std::string, std::string> out;
  const auto doc = probe_json("?limit=0");
  for (const auto& [ip, v] : doc.at("IPHistory").as_object()) {
    out[std::string(ip)] = std::string(v.at("State").as_string());
  }
  return out;
}

std::string IpmanagerProcess::metrics() const {
  return probe("/metrics").body;
}

int IpmanagerProcess::request_through_proxy(const std::string& path) const {
  try {
    return http_get("127.0.0.1", proxy_port_, path, {}, std::chrono::seconds(5)).status;
  } catch (const std::exception&) {
    return 0;
  }
}

std::map<int, int> IpmanagerProcess::traffic(int n) const {
  std::map<int, int> by_status;
  for (int i = 0; i < n; ++i)
    ++by_status[request_through_proxy()];
  return by_status;
}

std::set<std::string> ips_in(const std::map<std::string, std::string>& states,
                             const std::string& state) {
  std::set<std::string> out;
  for (const auto& [ip, s] : states) {
    if (s == state)
      out.insert(ip);
  }
  return out;
}

}  // namespace ipm::test
