#include "app/cli.hpp"

#include <charconv>

namespace ipm::app {
namespace {

ParseResult fail(std::string message) {
  return {std::nullopt, std::move(message)};
}

}  // namespace

ParseResult parse_command_line(std::span<const std::string_view> args) {
  CommandLine cl;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (!arg.starts_with("-"))
      return fail("unexpected argument '" + std::string(arg) + "'");
    // Go's flag package accepts -name and --name alike; so do we.
    arg.remove_prefix(arg.starts_with("--") ? 2 : 1);
    std::optional<std::string_view> inline_value;
    if (const auto eq = arg.find('='); eq != std::string_view::npos) {
      inline_value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    }
    auto take_value = [&](std::string_view flag) -> std::optional<std::string_view> {
      if (inline_value)
        return inline_value;
      if (i + 1 >= args.size())
        return std::nullopt;
      (void)flag;
      return args[++i];
    };
    auto no_value = [&](bool& target) -> bool {
      if (inline_value && *inline_value != "true")
        return false;
      target = true;
      return true;
    };

    if (arg == "config") {
      const auto v = take_value(arg);
      if (!v || v->empty())
        return fail("--config needs a file path");
      cl.config_path = std::string(*v);
    } else if (arg == "port") {
      const auto v = take_value(arg);
      if (!v)
        return fail("--port needs a port number");
      unsigned port = 0;
      const auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), port);
      if (ec != std::errc() || end != v->data() + v->size() || port == 0 || port > 65535) {
        return fail("--port: '" + std::string(*v) + "' is not a port number (1-65535)");
      }
      cl.probe_port = static_cast<std::uint16_t>(port);
    } else if (arg == "parse") {
      if (!no_value(cl.parse_mode))
        return fail("--parse takes no value");
    } else if (arg == "check") {
      if (!no_value(cl.check))
        return fail("--check takes no value");
    } else if (arg == "demo") {
      if (!no_value(cl.demo))
        return fail("--demo takes no value");
    } else if (arg == "version") {
      if (!no_value(cl.version))
        return fail("--version takes no value");
    } else if (arg == "help" || arg == "h") {
      cl.help = true;
    } else {
      return fail("unknown flag '" + std::string(args[i]) + "' (see --help)");
    }
  }
  if (!cl.help && !cl.version && !cl.config_path && !cl.demo) {
    return fail("--config PATH is required (see --help)");
  }
  return {cl, {}};
}

std::string usage() {
  return "Usage: ipmanager --config PATH [--parse] [--port N] [--check]\n"
         "       ipmanager --demo | --version | --help\n"
         "\n"
         "Sidecar for an nginx egress IP pool: follows the nginx access log, bans egress IPs\n"
         "that keep failing, load-balances TCP connections onto healthy ones, and serves\n"
         "/ping, /probe, /config, /metrics and a JSON API.\n"
         "\n"
         "  --config PATH  config file, YAML or JSON (the Go ipmanager's config.json loads as is)\n"
         "  --parse        mode parse: replay rotated logs before following the live one\n"
         "  --port N       probe port (overrides probe_port)\n"
         "  --check        validate the config, the nginx upstream config and the log format,\n"
         "                 print a summary, exit 0 (good) or 1 (bad)\n"
         "  --demo         run on the embedded demo config (used by deploy/demo.sh)\n"
         "  --version      print the version\n"
         "  --help         this text\n"
         "\n"
         "Every config key can be overridden by the environment variable IPM_<KEY>\n"
         "(e.g. IPM_PROBE_PORT=9100, IPM_API_TOKEN=secret).\n"
         "Signals: SIGHUP reloads; SIGTERM and SIGINT drain and exit 0.\n"
         "Exit codes: 0 ok, 1 bad config or failed check, 2 bad command line or unreadable config "
         "file.\n";
}

}  // namespace ipm::app
