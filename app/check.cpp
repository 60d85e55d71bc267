#include "app/check.hpp"

#include <ostream>

#include "scanner/log_format.hpp"
#include "scanner/upstream_config.hpp"

namespace ipm::app {

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
  } catch (const std::exception& e) {
    err << "upstream config: " << e.what() << "\n";
    ok = false;
  }

  try {
    const scanner::LogFormat format = scanner::LogFormat::compile(c.log_format);
    out << "log format: ok (" << format.captures() << " fields captured)\n";
  } catch (const std::exception& e) {
    err << e.what() << "\n";
    ok = false;
  }
  return ok ? 0 : 1;
}

}  // namespace ipm::app
