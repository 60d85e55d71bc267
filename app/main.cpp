// ipmanager: command line, config loading, and the exit codes operators script against
// (0 ok, 1 bad config or failed check, 2 bad command line or unreadable config file).
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <span>
#include <sstream>
#include <string_view>
#include <vector>

#include "app/check.hpp"
#include "app/cli.hpp"
#include "app/demo_config.hpp"
#include "app/dispatch_cli.hpp"
#include "app/egresses.hpp"
#include "app/firewall_cli.hpp"
#include "app/log.hpp"
#include "app/service.hpp"
#include "app/version.hpp"
#include "config/errors.hpp"
#include "config/load.hpp"
#include "proxy/interfaces.hpp"

namespace {

using ipm::app::CommandLine;
using ipm::config::Config;

// Loads the config the command line names and applies the flags that override it.
Config load(const CommandLine& cl) {
  Config c = cl.demo ? ipm::config::load_text(ipm::app::kDemoConfig, "<demo config>",
                                              ipm::config::process_env())
                     : ipm::config::load_file(*cl.config_path, ipm::config::process_env());
  if (cl.parse_mode)
    c.mode = ipm::config::Mode::parse;
  if (cl.probe_port)
    c.probe_port = *cl.probe_port;
  ipm::config::validate(c);
  return c;
}

// The gateway fork relays its clients' DNS to the host's resolvers.
std::vector<std::string> resolvers() {
  std::ifstream in("/etc/resolv.conf");
  std::ostringstream text;
  text << in.rdbuf();
  return ipm::app::system_resolvers(text.str());
}

// `ipmanager dispatch ...`: go-dispatch-proxy's command line.
int dispatch_main(std::span<const std::string_view> args) {
  const auto parsed = ipm::app::parse_dispatch(args);
  if (!parsed.command) {
    std::cerr << "ipmanager dispatch: " << parsed.error << "\n";
    return 2;
  }
  const auto& cmd = *parsed.command;
  if (cmd.help) {
    std::cout << ipm::app::dispatch_usage();
    return 0;
  }
  if (cmd.list) {
    std::cout << ipm::app::list_interfaces(ipm::proxy::interface_addresses());
    return 0;
  }
  auto load_dispatch = [cmd] {
    Config c = ipm::app::dispatch_config(cmd, resolvers());
    // The enhanced fork's README: GO_DISPATCH_CONFIG names the rules file; -config wins.
    if (const char* rules = std::getenv("GO_DISPATCH_CONFIG"); cmd.rules.empty() && rules)
      c.source_ip_rules = rules;
    ipm::config::apply_environment(c, ipm::config::process_env());
    ipm::config::validate(c);
    return c;
  };
  try {
    Config config = load_dispatch();
    ipm::app::set_debug(config.debug);
    ipm::app::set_json(config.log_style == ipm::config::LogStyle::json);
    ipm::app::set_quiet(cmd.quiet);
    ipm::app::Service service(std::move(config), load_dispatch);
    return service.run();
  } catch (const ipm::config::ConfigError& e) {
    std::cerr << "ipmanager dispatch: config error: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "ipmanager dispatch: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string_view> args(argv + 1, argv + argc);
  if (!args.empty() && args.front() == "dispatch")
    return dispatch_main(std::span(args).subspan(1));
  if (!args.empty() && args.front() == "firewall")
    return ipm::app::firewall_main(std::span(args).subspan(1), std::cout, std::cerr);
  const auto parsed = ipm::app::parse_command_line(args);
  if (!parsed.command_line) {
    std::cerr << "ipmanager: " << parsed.error << "\n";
    return 2;
  }
  const CommandLine& cl = *parsed.command_line;
  if (cl.help) {
    std::cout << ipm::app::usage();
    return 0;
  }
  if (cl.version) {
    std::cout << "ipmanager " << ipm::app::kVersion << " (" << ipm::app::kRevision << ")\n";
    return 0;
  }

  try {
    Config config = load(cl);
    ipm::app::set_debug(config.debug);
    ipm::app::set_json(config.log_style == ipm::config::LogStyle::json);
    if (cl.check)
      return ipm::app::run_check(config, std::cout, std::cerr);
    ipm::app::Service service(std::move(config), [cl] { return load(cl); });
    return service.run();
  } catch (const ipm::config::ConfigFileError& e) {
    std::cerr << "ipmanager: " << e.what() << "\n";
    return 2;
  } catch (const ipm::config::ConfigError& e) {
    std::cerr << "ipmanager: config error: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "ipmanager: " << e.what() << "\n";
    return 1;
  }
}
