#include "app/check.hpp"

#include <ostream>

namespace ipm::app {

int run_check(const config::Config& c, std::ostream& out, std::ostream& /*err*/) {
  out << "config: ok\n"
      << "  mode " << config::to_string(c.mode) << ", strategy " << c.strategy << " ("
      << c.consecutive_failure << " failures within " << config::format_duration(c.failure_window)
      << ", cooldown " << config::format_duration(c.cool_down) << ")\n"
      << "  probe " << c.probe_host << ":" << c.probe_port << ", proxy " << c.proxy_host << ":"
      << c.proxy_port << " -> " << c.next << ":PORT\n"
      << "  upstream config " << c.upstream_conf_path << "\n"
      << "  access log " << c.access_log_path << "\n";
  return 0;
}

}  // namespace ipm::app
