#include "tests/e2e/ipmanager_process.hpp"

#include <csignal>
#include <fstream>
#include <iterator>
#include <regex>
#include <stdexcept>

#include <boost/json.hpp>

namespace ipm::test {
namespace {

// Startup may include a parse-mode replay and, in the sanitizer build, a slow binary.
constexpr auto kStartTimeout = std::chrono::seconds(30);
constexpr auto kReloadTimeout = std::chrono::seconds(15);

}  // namespace

std::optional<BoundPorts> bound_ports(const std::string& log) {
  static const std::regex running(
      R"(ipmanager running: .* probe http://[0-9.]+:([0-9]+), (?:proxy|tcp) [0-9.]+:([0-9]+))");
  std::optional<BoundPorts> found;
  for (auto it = std::sregex_iterator(log.begin(), log.end(), running);
       it != std::sregex_iterator(); ++it) {
    found = BoundPorts{static_cast<std::uint16_t>(std::stoi((*it)[1].str())),
                       static_cast<std::uint16_t>(std::stoi((*it)[2].str()))};
  }
  return found;
}

IpmanagerProcess::IpmanagerProcess(const NginxPool& pool, const std::string& extra_yaml,
                                   const std::filesystem::path& workdir, bool parse_mode,
                                   const std::vector<std::string>& launcher)
    : config_(workdir / "ipmanager.yaml"), stderr_(workdir / "ipmanager.stderr") {
  // Ports 0 unless the test names its own (a restart on the same port).
  const auto port_zero = [&](const std::string& key) {
    return extra_yaml.find(key + ":") == std::string::npos ? key + ": 0\n" : std::string();
  };
  config_text_ = "upstream_conf_path: " + (pool.prefix() / "pool.conf").string() +
                 "\naccess_log_path: '" + pool.access_log_pattern() + "'\n" +
                 port_zero("probe_port") + port_zero("proxy_port") +
                 "dial_timeout: 1s\nreconcile_interval: 200ms\n" +
                 "state_dir: " + (workdir / "ipmanager-state").string() + "\n" + extra_yaml + "\n";
  std::ofstream(config_) << config_text_;
  std::error_code ec;
  const auto size = std::filesystem::file_size(stderr_, ec);
  stderr_start_ = ec ? 0 : size;
  SpawnOptions options;
  options.argv = launcher;
  options.argv.insert(options.argv.end(), {IPM_EXECUTABLE, "--config", config_.string()});
  if (parse_mode)
    options.argv.emplace_back("--parse");
  options.stderr_to = stderr_;
  process_ = std::make_unique<ChildProcess>(options);
  std::optional<BoundPorts> ports;
  wait_until(
      [&] {
        ports = bound_ports(stderr_text());
        return ports.has_value() || !process_->running();
      },
      kStartTimeout);
  if (!ports)
    throw std::runtime_error("ipmanager did not start:\n" + stderr_text());
  ports_ = *ports;
}

IpmanagerProcess::~IpmanagerProcess() {
  process_->stop(std::chrono::seconds(10));
}

std::string IpmanagerProcess::stderr_text() const {
  std::ifstream in(stderr_);
  in.seekg(static_cast<std::streamoff>(stderr_start_));
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

bool IpmanagerProcess::reload() {
  // The reload's one line, written once the config and the pool config are both applied
  // (or neither is).
  const auto count = [&] {
    const std::string log = stderr_text();
    return occurrences(log, "SIGHUP: configuration reloaded") +
           occurrences(log, "SIGHUP: reload failed");
  };
  const auto before = count();
  if (!process_->signal(SIGHUP))
    return false;
  return wait_until([&] { return count() > before; }, kReloadTimeout);
}

HttpResponse IpmanagerProcess::probe(const std::string& path) const {
  return http_get("127.0.0.1", ports_.probe, path);
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

HttpResponse IpmanagerProcess::get_through_proxy(const std::string& path,
                                                 const Headers& headers) const {
  return http_get("127.0.0.1", ports_.proxy, path, headers, std::chrono::seconds(5));
}

int IpmanagerProcess::request_through_proxy(const std::string& path) const {
  return get_through_proxy(path).status;
}

std::map<int, int> IpmanagerProcess::traffic(int n) const {
  std::map<int, int> by_status;
  for (int i = 0; i < n; ++i)
    ++by_status[request_through_proxy()];
  return by_status;
}

std::vector<std::string> IpmanagerProcess::egress_sequence(int n) const {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) {
    const HttpResponse r = get_through_proxy();
    std::string source;
    if (r.status == 200 && r.body.rfind("ok ", 0) == 0)
      source = r.body.substr(3, r.body.find('\n') - 3);
    out.push_back(source);
  }
  return out;
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

double sample(const std::string& metrics, const std::string& series) {
  const auto at = metrics.find("\n" + series + " ");
  if (at == std::string::npos)
    return -1;
  return std::stod(metrics.substr(at + series.size() + 2));
}

int occurrences(const std::string& text, const std::string& needle) {
  int n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1))
    ++n;
  return n;
}

}  // namespace ipm::test
