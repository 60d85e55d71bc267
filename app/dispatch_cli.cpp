#include "app/dispatch_cli.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <chrono>

#include "config/errors.hpp"

namespace ipm::app {
namespace {

DispatchParse fail(std::string message) {
  return {std::nullopt, std::move(message)};
}

std::optional<std::uint16_t> port_of(std::string_view text) {
  unsigned v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || v == 0 || v > 65535)
    return std::nullopt;
  return static_cast<std::uint16_t>(v);
}

bool is_ip(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

// The enhanced forks' flags that ipmanager does not take yet: named, so that a user of a fork
// learns what is missing instead of reading "not defined".
std::optional<std::string> unsupported(std::string_view flag) {
  if (flag == "gateway" || flag == "transparent-port" || flag == "subnet" ||
      flag == "auto-config" || flag == "dns-port")
    return "the transparent gateway mode is not supported by ipmanager dispatch yet";
  return std::nullopt;
}

}  // namespace

DispatchParse parse_dispatch(std::span<const std::string_view> args) {
  DispatchCommand cmd;
  bool flags_done = false;  // after "--", as Go's flag package stops there
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (!flags_done && arg == "--") {
      flags_done = true;
      continue;
    }
    if (flags_done || !arg.starts_with("-") || arg == "-") {
      cmd.egresses.emplace_back(arg);
      continue;
    }
    arg.remove_prefix(arg.starts_with("--") ? 2 : 1);
    std::optional<std::string_view> inline_value;
    if (const auto eq = arg.find('='); eq != std::string_view::npos) {
      inline_value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    }
    const auto value = [&]() -> std::optional<std::string_view> {
      if (inline_value)
        return inline_value;
      if (i + 1 >= args.size())
        return std::nullopt;
      return args[++i];
    };
    const auto flag = [&](bool& target) {
      // Go booleans: -tunnel, -tunnel=true, -tunnel=false.
      target = !inline_value || *inline_value == "true" || *inline_value == "1";
      return !inline_value || target || *inline_value == "false" || *inline_value == "0";
    };
    if (arg == "lhost") {
      const auto v = value();
      if (!v || !is_ip(std::string(*v)))
        return fail("-lhost: '" + std::string(v.value_or("")) + "' is not an IP address");
      cmd.lhost = std::string(*v);
    } else if (arg == "lport" || arg == "web") {
      const auto v = value();
      const auto p = v ? port_of(*v) : std::nullopt;
      if (!p)
        return fail("-" + std::string(arg) + ": '" + std::string(v.value_or("")) +
                    "' is not a port (1-65535)");
      (arg == "lport" ? cmd.lport : cmd.web.emplace()) = *p;
    } else if (arg == "config") {
      const auto v = value();
      if (!v || v->empty())
        return fail("-config: needs the path of a source_ip_rules.json");
      cmd.rules = std::string(*v);
    } else if (arg == "tunnel" || arg == "list" || arg == "quiet" || arg == "stats") {
      bool& target = arg == "tunnel"  ? cmd.tunnel
                     : arg == "list"  ? cmd.list
                     : arg == "quiet" ? cmd.quiet
                                      : cmd.stats;
      if (!flag(target))
        return fail("-" + std::string(arg) + " takes true or false");
    } else if (arg == "h" || arg == "help") {
      cmd.help = true;
    } else if (const auto why = unsupported(arg)) {
      return fail("-" + std::string(arg) + ": " + *why);
    } else {
      return fail("flag provided but not defined: -" + std::string(arg) + " (see -help)");
    }
  }
  if (!cmd.help && !cmd.list && cmd.egresses.empty())
    return fail(
        "Please specify one or more load balancers (IP[@ratio], IFACE[@ratio], or with "
        "-tunnel host:port[@ratio])");
  return {cmd, {}};
}

config::Config dispatch_config(const DispatchCommand& cmd) {
  config::Config c;
  c.upstream_conf_path.clear();
  c.selection = config::Selection::weighted;  // go-dispatch-proxy's ratios, interleaved
  c.probe_host = "127.0.0.1";
  c.probe_port = cmd.web.value_or(9095);
  c.listen = {config::Listener{config::FrontEnd::mixed, cmd.lhost, cmd.lport, {}}};
  c.source_ip_rules = cmd.rules;
  if (cmd.stats)
    c.stats_interval = std::chrono::minutes(1);
  for (const auto& arg : cmd.egresses) {
    const auto at = arg.rfind('@');
    const std::string target = arg.substr(0, at);
    config::EgressSpec e;
    if (at != std::string::npos) {
      const std::string_view ratio = std::string_view(arg).substr(at + 1);
      unsigned v = 0;
      const auto [end, ec] = std::from_chars(ratio.data(), ratio.data() + ratio.size(), v);
      if (ratio.empty() || ec != std::errc() || end != ratio.data() + ratio.size() || v == 0 ||
          v > 1'000'000)
        throw config::ConfigError(arg, "invalid contention ratio (a whole number from 1)");
      e.weight = v;
    }
    if (cmd.tunnel) {
      // host:port, [v6]:port
      const auto colon = target.rfind(':');
      const auto port =
          colon == std::string::npos ? std::nullopt : port_of(target.substr(colon + 1));
      std::string host = colon == std::string::npos ? "" : target.substr(0, colon);
      if (host.starts_with('[') && host.ends_with(']'))
        host = host.substr(1, host.size() - 2);
      if (host.empty() || !port)
        throw config::ConfigError(arg,
                                  "invalid address specification (host:port[@ratio] with -tunnel)");
      e.kind = config::EgressKind::upstream;
      e.host = host;
      e.port = *port;
      e.protocol = config::UpstreamProtocol::socks5;
    } else {
      e.kind = config::EgressKind::source;
      if (is_ip(target))
        e.address = target;
      else if (!target.empty() && target.size() < 16 &&
               target.find_first_of(":/") == std::string::npos)
        e.interface = target;
      else
        throw config::ConfigError(arg, "neither an IP address nor an interface name");
    }
    c.egresses.push_back(std::move(e));
  }
  return c;
}

std::string dispatch_usage() {
  return "Usage: ipmanager dispatch [-lhost 127.0.0.1] [-lport 8080] [-tunnel] [-list] [-quiet]\n"
         "                          [-web PORT] [-config source_ip_rules.json] [-stats]\n"
         "                          IP[@ratio] | IFACE[@ratio] | HOST:PORT[@ratio] "
         "...\n"
         "\n"
         "go-dispatch-proxy's command line: a SOCKS5/SOCKS4/HTTP proxy on lhost:lport whose\n"
         "connections leave from the given local IPs or interfaces (or, with -tunnel, through\n"
         "the given upstream SOCKS5 proxies, such as ssh -D tunnels) in the given ratios, with\n"
         "health: an egress that fails is taken out and let back on probation.\n"
         "\n"
         "  -lhost IP    address of the proxy (default 127.0.0.1)\n"
         "  -lport N     port of the proxy (default 8080)\n"
         "  -tunnel      the arguments are upstream SOCKS5 proxies host:port[@ratio]\n"
         "  -list        print the interfaces and their addresses, then exit\n"
         "  -quiet       log warnings and errors only\n"
         "  -web PORT    port of the probe (/ping, /probe, /metrics, API; default 9095)\n"
         "  -config FILE the enhanced fork's source_ip_rules.json: each client IP or CIDR its\n"
         "               own ratio per egress (the longest prefix wins; 0: never); reread on\n"
         "               SIGHUP\n"
         "  -stats       print the enhanced fork's statistics block on stdout every minute\n"
         "               (IPM_STATS_INTERVAL=10s to change it); kill -USR1 prints it at once\n"
         "\n"
         "Every config key can be set with IPM_<KEY>, e.g. IPM_ALLOW_OPEN_PROXY=true to listen\n"
         "beyond loopback without users, IPM_ALLOW_DESTINATIONS='[10.0.0.0/8]' to reach\n"
         "addresses refused by default (loopback, link-local, the host's own).\n";
}

}  // namespace ipm::app
