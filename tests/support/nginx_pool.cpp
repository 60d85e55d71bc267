#include "tests/support/nginx_pool.hpp"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace ipm::test {
namespace {

constexpr const char* kNginx = "/usr/sbin/nginx";
constexpr auto kReloadTimeout = std::chrono::seconds(10);
constexpr auto kStopGrace = std::chrono::seconds(5);

// nginx workers drop root for this user; it must exist on the host.
std::string worker_user() {
  return ::getpwnam("www-data") != nullptr ? "www-data" : "nobody";
}

std::string ip_plus(const std::string& base, int offset) {
  in_addr a{};
  if (::inet_pton(AF_INET, base.c_str(), &a) != 1) {
    throw std::invalid_argument("NginxPool: bad egress_base " + base);
  }
  a.s_addr = htonl(ntohl(a.s_addr) + static_cast<std::uint32_t>(offset));
  char out[INET_ADDRSTRLEN];
  ::inet_ntop(AF_INET, &a, out, sizeof out);
  return out;
}

// Children of `parent` (nginx workers), found through /proc.
std::vector<pid_t> children_of(pid_t parent) {
  std::vector<pid_t> out;
  DIR* d = ::opendir("/proc");
  if (d == nullptr)
    return out;
  while (const dirent* e = ::readdir(d)) {
    const pid_t pid = static_cast<pid_t>(std::atoi(e->d_name));
    if (pid <= 0)
      continue;
    std::ifstream stat("/proc/" + std::string(e->d_name) + "/stat");
    std::string line;
    std::getline(stat, line);
    // Format: pid (comm) state ppid ...; comm may hold spaces, so parse after the last ')'.
    const auto close = line.rfind(')');
    if (close == std::string::npos)
      continue;
    std::istringstream rest(line.substr(close + 1));
    std::string state;
    pid_t ppid = 0;
    rest >> state >> ppid;
    if (ppid == parent)
      out.push_back(pid);
  }
  ::closedir(d);
  return out;
}

// Paths under `dir` that process `pid` has open.
std::vector<std::string> open_files_under(pid_t pid, const std::string& dir) {
  std::vector<std::string> out;
  const std::string fd_dir = "/proc/" + std::to_string(pid) + "/fd";
  DIR* d = ::opendir(fd_dir.c_str());
  if (d == nullptr)
    return out;
  while (const dirent* e = ::readdir(d)) {
    char target[4096];
    const ssize_t n = ::readlink((fd_dir + "/" + e->d_name).c_str(), target, sizeof target - 1);
    if (n <= 0)
      continue;
    const std::string path(target, static_cast<std::size_t>(n));
    if (path.rfind(dir, 0) == 0)
      out.push_back(path);
  }
  ::closedir(d);
  return out;
}

}  // namespace

NginxPool::NginxPool(NginxPoolOptions options) : options_(std::move(options)), dir_("ipm-nginx") {
  if (options_.egress_count < 1)
    throw std::invalid_argument("NginxPool: egress_count < 1");
  for (const char* sub : {"logs", "tmp"})
    std::filesystem::create_directories(dir_ / sub);
  // The ports are free when picked but not reserved: a test running in parallel may bind one
  // before nginx does (likelier the longer the run: 1,001 ports for a 1,000-block pool). Such a
  // lost race is retried on a fresh run of ports; any other failure is reported at once.
  constexpr int kAttempts = 4;
  for (int attempt = 1;; ++attempt) {
    if (start_on_fresh_ports())
      break;
    const bool lost_race =
        read_file(error_log()).find("Address already in use") != std::string::npos;
    if (!lost_race || attempt == kAttempts)
      fail("nginx did not start");
    master_.reset();
    std::filesystem::remove(error_log());
  }
  for (const auto port : ports_) {
    if (!wait_for_tcp_port("127.0.0.1", port, options_.start_timeout)) {
      fail("egress port " + std::to_string(port) + " not listening");
    }
  }
}

bool NginxPool::start_on_fresh_ports() {
  const std::uint16_t base = options_.pick_ports(options_.egress_count + 1);
  ports_.clear();
  ips_.clear();
  for (int k = 0; k < options_.egress_count; ++k) {
    ports_.push_back(static_cast<std::uint16_t>(base + k));
    ips_.push_back(ip_plus(options_.egress_base, k));
  }
  target_port_ = static_cast<std::uint16_t>(base + options_.egress_count);
  write_pool_conf();
  write_blocked_conf();
  write_main_conf();

  SpawnOptions spawn;
  spawn.argv = {kNginx,
                "-p",
                dir_.path().string() + "/",
                "-c",
                (dir_ / "nginx.conf").string(),
                "-e",
                error_log().string(),
                "-g",
                "daemon off; master_process on;"};
  spawn.stdout_to = dir_ / "logs/nginx.stdout";
  spawn.stderr_to = dir_ / "logs/nginx.stderr";
  master_ = std::make_unique<ChildProcess>(spawn);
  const bool up = wait_until(
      [&] {
        if (!master_->running())
          return true;
        return get_generation() == generation_;
      },
      options_.start_timeout);
  return up && master_->running();
}

NginxPool::~NginxPool() {
  if (!master_)
    return;
  // QUIT lets the worker finish and flush; then the escalation of ChildProcess::stop.
  master_->signal(SIGQUIT);
  if (!master_->wait_exit(kStopGrace))
    master_->stop(kStopGrace, SIGTERM);
  master_->stop();
}

std::uint16_t NginxPool::port_of(const std::string& ip) const {
  const auto it = std::find(ips_.begin(), ips_.end(), ip);
  if (it == ips_.end())
    throw std::invalid_argument("NginxPool: unknown egress " + ip);
  return ports_[static_cast<std::size_t>(it - ips_.begin())];
}

std::string NginxPool::access_log_pattern() const {
  return (dir_ / (options_.per_ip_logs ? "logs/access.%s.log" : "logs/access.log")).string();
}

std::filesystem::path NginxPool::access_log(const std::string& ip) const {
  if (!options_.per_ip_logs)
    return dir_ / "logs/access.log";
  if (ip.empty())
    throw std::invalid_argument("NginxPool: per-IP logs need an IP");
  return dir_ / ("logs/access." + ip + ".log");
}

std::vector<std::filesystem::path> NginxPool::access_logs() const {
  if (!options_.per_ip_logs)
    return {access_log()};
  std::vector<std::filesystem::path> out;
  for (const auto& ip : ips_)
    out.push_back(access_log(ip));
  return out;
}

std::map<std::string, int> NginxPool::target_hits_by_source() const {
  std::map<std::string, int> hits;
  std::ifstream in(target_log());
  std::string line;
  while (std::getline(in, line)) {
    const auto sp = line.find(' ');
    if (sp != std::string::npos)
      ++hits[line.substr(0, sp)];
  }
  return hits;
}

void NginxPool::block(const std::vector<std::string>& ips) {
  blocked_.insert(ips.begin(), ips.end());
  write_blocked_conf();
  reload();
}

void NginxPool::unblock(const std::vector<std::string>& ips) {
  for (const auto& ip : ips)
    blocked_.erase(ip);
  write_blocked_conf();
  reload();
}

void NginxPool::block_for_host(const std::vector<std::string>& ips, const std::string& host) {
  for (const auto& ip : ips)
    blocked_for_host_.emplace(ip, host);
  write_blocked_conf();
  reload();
}

void NginxPool::unblock_for_host(const std::vector<std::string>& ips, const std::string& host) {
  for (const auto& ip : ips)
    blocked_for_host_.erase({ip, host});
  write_blocked_conf();
  reload();
}

void NginxPool::stop_server(const std::string& ip) {
  const auto port = port_of(ip);
  closed_.insert(ip);
  write_pool_conf();
  reload();
  // The old worker keeps its listening socket until it has finished its connections.
  if (!wait_until([&] { return !wait_for_tcp_port("127.0.0.1", port, {}); }, kReloadTimeout)) {
    fail("egress port " + std::to_string(port) + " still open after stop_server");
  }
}

void NginxPool::start_server(const std::string& ip) {
  const auto port = port_of(ip);
  closed_.erase(ip);
  write_pool_conf();
  reload();
  if (!wait_for_tcp_port("127.0.0.1", port, kReloadTimeout)) {
    fail("egress port " + std::to_string(port) + " not listening after start_server");
  }
}

void NginxPool::reload() {
  ++generation_;
  write_main_conf();
  master_->signal(SIGHUP);
  if (!wait_until([&] { return get_generation() == generation_; }, kReloadTimeout)) {
    fail("reload to generation " + std::to_string(generation_) + " not in effect");
  }
  // Old workers drain and exit; wait so that log files have one writer again.
  const auto master = master_->pid();
  wait_until([&] { return children_of(master).size() <= 1; }, kReloadTimeout);
}

void NginxPool::reopen_logs() {
  master_->signal(SIGUSR1);
  // Reopened once every log exists again and no worker holds a file that is no longer at
  // its configured path (a renamed log shows up under its new name in /proc/PID/fd).
  std::set<std::string> current;
  for (const auto& p : access_logs())
    current.insert(p.string());
  current.insert(target_log().string());
  current.insert(error_log().string());
  current.insert((dir_ / "logs/nginx.stdout").string());
  current.insert((dir_ / "logs/nginx.stderr").string());
  const std::string logs_dir = (dir_ / "logs").string() + "/";
  const auto master = master_->pid();
  const bool done = wait_until(
      [&] {
        for (const auto& p : access_logs()) {
          if (!std::filesystem::exists(p))
            return false;
        }
        for (const auto worker : children_of(master)) {
          for (const auto& f : open_files_under(worker, logs_dir)) {
            if (!current.contains(f))
              return false;
          }
        }
        return true;
      },
      kReloadTimeout);
  if (!done)
    fail("nginx did not reopen its logs");
}

HttpResponse NginxPool::get(std::uint16_t port, const std::string& path, Headers headers) const {
  if (!options_.fixed_target) {
    const bool has_host = std::any_of(headers.begin(), headers.end(),
                                      [](const auto& h) { return h.first == "X-Egress-Host"; });
    if (!has_host)
      headers.emplace_back("X-Egress-Host", "127.0.0.1:" + std::to_string(target_port_));
  }
  return http_get("127.0.0.1", port, path, headers);
}

int NginxPool::get_generation() const {
  const auto r =
      http_get("127.0.0.1", target_port_, "/__ipm_generation", {}, std::chrono::milliseconds(500));
  return r.status == 200 ? std::atoi(r.body.c_str()) : -1;
}

void NginxPool::write_pool_conf() {
  std::string closed;
  for (std::size_t k = 0; k < ips_.size(); ++k) {
    if (closed_.contains(ips_[k]))
      closed += (closed.empty() ? "" : ",") + std::to_string(k + 1);
  }
  std::vector<std::string> argv = {
      "bash",          std::string(IPM_SOURCE_DIR) + "/deploy/gen-pool.sh",
      "--count",       std::to_string(ips_.size()),
      "--base-port",   std::to_string(ports_.front()),
      "--egress-base", ips_.front(),
      "--listen-addr", "127.0.0.1",
      "--log",         access_log_pattern(),
      "--output",      (dir_ / "pool.conf").string()};
  if (options_.fixed_target) {
    argv.insert(argv.end(), {"--target", "127.0.0.1:" + std::to_string(target_port_)});
  }
  if (!closed.empty())
    argv.insert(argv.end(), {"--closed", closed});
  const auto err = dir_ / "logs/gen-pool.stderr";
  SpawnOptions gen;
  gen.argv = argv;
  gen.stderr_to = err;
  if (run_command(gen) != 0) {
    throw std::runtime_error("deploy/gen-pool.sh failed: " + read_file(err));
  }
}

void NginxPool::write_blocked_conf() {
  std::string body;
  for (const auto& ip : blocked_)
    body += ip + " 1;\n";
  write_file(dir_ / "blocked.conf", body);
  std::string pairs;
  for (const auto& [ip, host] : blocked_for_host_)
    pairs += "\"" + ip + " " + host + "\" 1;\n";
  write_file(dir_ / "blocked_for_host.conf", pairs);
}

void NginxPool::write_main_conf() {
  const std::string p = dir_.path().string();
  const std::string status = std::to_string(options_.blocked_status);
  std::ostringstream c;
  c << "user " << worker_user() << ";\n"
    << "worker_processes 1;\n"
    << "pid " << p << "/nginx.pid;\n"
    << "lock_file " << p << "/nginx.lock;\n"
    << "error_log " << p
    << "/logs/error.log notice;\n"
    // Each listening socket takes a connection of the worker: leave 1,024 for traffic.
    << "events { worker_connections " << options_.egress_count + 1024 << "; }\n"
    << "http {\n"
    << "  client_body_temp_path " << p << "/tmp/body;\n"
    << "  proxy_temp_path " << p << "/tmp/proxy;\n"
    << "  fastcgi_temp_path " << p << "/tmp/fastcgi;\n"
    << "  uwsgi_temp_path " << p << "/tmp/uwsgi;\n"
    << "  scgi_temp_path " << p << "/tmp/scgi;\n"
    << "  access_log off;\n"
    << "  include " << p << "/pool.conf;\n"
    << "  geo $remote_addr $ipm_blocked {\n"
    << "    default 0;\n"
    << "    include " << p << "/blocked.conf;\n"
    << "  }\n"
    << "  map \"$remote_addr $http_x_egress_host\" $ipm_blocked_for_host {\n"
    << "    default 0;\n"
    << "    include " << p << "/blocked_for_host.conf;\n"
    << "  }\n"
    << "  log_format ipm_target '$remote_addr $status $request_uri $http_x_egress_key';\n"
    << "  server {\n"
    << "    listen 127.0.0.1:" << target_port_ << ";\n"
    << "    access_log " << p << "/logs/target.access.log ipm_target;\n"
    << "    location = /__ipm_generation { access_log off; return 200 \"" << generation_
    << "\"; }\n"
    << "    location / {\n"
    << "      if ($ipm_blocked) { return " << status << " \"blocked $remote_addr\\n\"; }\n"
    << "      if ($ipm_blocked_for_host) {\n"
    << "        return " << status << " \"blocked $remote_addr for $http_x_egress_host\\n\";\n"
    << "      }\n"
    << "      return 200 \"ok $remote_addr\\n\";\n"
    << "    }\n"
    << "  }\n"
    << "}\n";
  write_file(dir_ / "nginx.conf", c.str());
}

void NginxPool::fail(const std::string& what) const {
  std::string log = read_file(error_log()) + read_file(dir_ / "logs/nginx.stderr");
  if (log.size() > 3000)
    log = "..." + log.substr(log.size() - 3000);
  throw std::runtime_error("NginxPool: " + what + "\n--- nginx error log ---\n" + log);
}

}  // namespace ipm::test
