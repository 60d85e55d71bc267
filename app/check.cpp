#include "app/check.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <ostream>

#include "app/exposure.hpp"
#include "clients/source_ip_rules.hpp"
#include "scanner/log_format.hpp"
#include "scanner/tailer.hpp"
#include "scanner/upstream_config.hpp"

namespace ipm::app {
namespace {

constexpr std::size_t kLogsNamed = 10;  // per kind of problem; the rest are counted

std::string who() {
  return "uid " + std::to_string(::geteuid());
}

// Each log the service would follow, opened as the running user: one it cannot read is an
// error (the service would follow nothing and judge nothing), a missing one a warning
// (nginx creates its logs when it starts or reloads with the pool config).
bool check_logs(const std::vector<std::string>& paths, std::ostream& out, std::ostream& err) {
  std::size_t missing = 0;
  std::size_t unreadable = 0;
  for (const std::string& path : paths) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    const int open_errno = errno;
    struct stat st {};
    const bool regular = fd >= 0 && ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
    if (fd >= 0)
      ::close(fd);
    if (fd < 0 && open_errno == ENOENT) {
      if (++missing <= kLogsNamed) {
        out << "  warning: access log " << path
            << " does not exist yet; it is followed once nginx creates it\n";
      }
    } else if (fd < 0 || !regular) {
      if (++unreadable <= kLogsNamed) {
        err << "access log " << path << ": cannot be read as " << who() << ": "
            << (fd < 0 ? std::strerror(open_errno) : "not a regular file") << "\n";
      }
    }
  }
  if (missing > kLogsNamed)
    out << "  warning: " << missing - kLogsNamed << " more access logs do not exist yet\n";
  if (unreadable > kLogsNamed)
    err << "access logs: " << unreadable - kLogsNamed << " more cannot be read\n";
  if (unreadable == 0) {
    out << "access logs: ok: " << paths.size() - missing << " of " << paths.size() << " readable\n";
  }
  return unreadable == 0;
}

// The journal of operator actions needs state_dir writable (systemd's StateDirectory=
// creates it for the unit); a missing one is created at start when its parent allows.
bool check_state_dir(const std::string& dir, std::ostream& out, std::ostream& err) {
  std::error_code ec;
  if (!std::filesystem::exists(dir, ec)) {
    const auto parent = std::filesystem::path(dir).parent_path();
    if (::access(parent.c_str(), W_OK | X_OK) == 0) {
      out << "state_dir: " << dir << " does not exist yet; created at start\n";
      return true;
    }
    err << "state_dir " << dir << ": does not exist and " << parent.string()
        << " is not writable as " << who() << "\n";
    return false;
  }
  if (!std::filesystem::is_directory(dir, ec) || ::access(dir.c_str(), W_OK | X_OK) != 0) {
    err << "state_dir " << dir << ": not a writable directory for " << who() << ": "
        << std::strerror(errno) << "\n";
    return false;
  }
  out << "state_dir: ok (" << dir << ")\n";
  return true;
}

std::vector<std::string> ips_of(const std::vector<pool::Egress>& egresses) {
  std::vector<std::string> ips;
  ips.reserve(egresses.size());
  for (const auto& e : egresses)
    ips.push_back(e.ip);
  return ips;
}

}  // namespace

int run_check(const config::Config& c, std::ostream& out, std::ostream& err) {
  bool ok = true;
  out << "config: ok\n"
      << "  mode " << config::to_string(c.mode) << ", strategy " << c.strategy << " ("
      << c.consecutive_failure << " failures within " << config::format_duration(c.failure_window)
      << ", cooldown " << config::format_duration(c.cool_down) << ")\n"
      << "  probe " << c.probe_host << ":" << c.probe_port << ", proxy " << c.proxy_host << ":"
      << c.proxy_port << " -> " << c.next << ":PORT, selection " << config::to_string(c.selection)
      << "\n"
      << "  access log " << c.access_log_path << "\n";

  std::vector<std::string> ips;
  if (c.upstream_conf_path.empty()) {
    // Dispatch mode: no pool config and no access log to check.
    out << "upstream config: none (dispatch mode: " << c.listen.size() << " front ends, "
        << c.egresses.size() << " egresses)\n";
  } else {
    try {
      const scanner::UpstreamConfig upstream = scanner::parse_upstream_config(c.upstream_conf_path);
      out << "upstream config: ok: " << upstream.egresses.size() << " egress IPs on "
          << upstream.bindings.size() << " ports";
      if (upstream.ignored_blocks != 0) {
        out << ", " << upstream.ignored_blocks << " server blocks without an egress ignored";
      }
      out << " (" << c.upstream_conf_path << ")\n";
      for (const auto& w : upstream.warnings)
        out << "  warning: " << w << "\n";
      ips = ips_of(upstream.egresses);
    } catch (const std::exception& e) {
      err << "upstream config: " << e.what() << "\n";
      ok = false;
    }
    // Per-IP logs (%s) need the pool's IPs; without a readable pool config they are unknown.
    if (ok || c.access_log_path.find("%s") == std::string::npos) {
      ok = check_logs(scanner::expand_log_paths(c.access_log_path, ips), out, err) && ok;
    }
  }

  for (const auto& w : exposure_warnings(c))
    err << "WARNING: " << w << "\n";
  ok = check_state_dir(c.state_dir, out, err) && ok;

  if (!c.source_ip_rules.empty()) {
    try {
      const auto rules = clients::SourceIpRules::load(c.source_ip_rules);
      out << "source_ip_rules: ok: " << rules.rule_count() << " rules for "
          << rules.egresses().size() << " egresses (" << c.source_ip_rules << ")\n";
    } catch (const std::exception& e) {
      err << "source_ip_rules: " << e.what() << "\n";
      ok = false;
    }
  }

  try {
    const scanner::LogFormat format = scanner::LogFormat::compile(c.log_format, c.target_variable);
    out << "log format: ok (" << format.captures() << " fields captured)\n";
  } catch (const std::exception& e) {
    err << e.what() << "\n";
    ok = false;
  }
  return ok ? 0 : 1;
}

}  // namespace ipm::app
