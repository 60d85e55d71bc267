#include "app/dispatch_cli.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <chrono>

#include "config/cidr.hpp"
#include "config/dispatch.hpp"
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

}  // namespace

DispatchParse parse_dispatch(std::span<const std::string_view> args, bool egresses_required) {
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
    } else if (arg == "transparent-port" || arg == "dns-port") {
      const auto v = value();
      const auto p = v ? port_of(*v) : std::nullopt;
      // -dns-port 0: no DNS forwarder
      if (!p && !(arg == "dns-port" && v == "0"))
        return fail("-" + std::string(arg) + ": '" + std::string(v.value_or("")) +
                    "' is not a port (1-65535)");
      (arg == "transparent-port" ? cmd.transparent_port : cmd.dns_port) = p.value_or(0);
      cmd.gateway_flag_seen = true;
    } else if (arg == "subnet") {
      const auto v = value();
      std::string why;
      if (!v || !config::Cidr::parse(*v, why))
        return fail("-subnet: '" + std::string(v.value_or("")) + "' is not a CIDR (" + why + ")");
      cmd.subnets.emplace_back(*v);
      cmd.gateway_flag_seen = true;
    } else if (arg == "gateway-ip") {
      const auto v = value();
      if (!v || !is_ip(std::string(*v)))
        return fail("-gateway-ip: '" + std::string(v.value_or("")) + "' is not an IP address");
      cmd.gateway_ip = std::string(*v);
      cmd.gateway_flag_seen = true;
    } else if (arg == "nat-interface") {
      const auto v = value();
      if (!v || v->empty() || v->size() > 15 || v->find_first_of("/ \"") != std::string::npos)
        return fail("-nat-interface: '" + std::string(v.value_or("")) +
                    "' is not an interface name");
      cmd.nat_interface = std::string(*v);
      cmd.gateway_flag_seen = true;
    } else if (arg == "gateway" || arg == "auto-config") {
      if (!flag(arg == "gateway" ? cmd.gateway : cmd.auto_config))
        return fail("-" + std::string(arg) + " takes true or false");
      if (arg == "auto-config")
        cmd.gateway_flag_seen = true;
    } else if (arg == "h" || arg == "help") {
      cmd.help = true;
    } else {
      return fail("flag provided but not defined: -" + std::string(arg) + " (see -help)");
    }
  }
  if (cmd.gateway_flag_seen && !cmd.gateway)
    return fail(
        "-transparent-port, -subnet, -gateway-ip, -auto-config, -dns-port and "
        "-nat-interface belong to the gateway mode: add -gateway");
  if (cmd.gateway && cmd.subnets.empty())
    cmd.subnets = {"192.168.100.0/24"};  // the gateway fork's default
  if (egresses_required && !cmd.help && !cmd.list && cmd.egresses.empty())
    return fail(
        "Please specify one or more load balancers (IP[@ratio], IFACE[@ratio], or with "
        "-tunnel host:port[@ratio])");
  return {cmd, {}};
}

std::vector<std::string> system_resolvers(std::string_view resolv_conf) {
  std::vector<std::string> out;
  while (!resolv_conf.empty()) {
    const auto eol = resolv_conf.find('\n');
    std::string_view line = resolv_conf.substr(0, eol);
    resolv_conf = eol == std::string_view::npos ? std::string_view() : resolv_conf.substr(eol + 1);
    constexpr std::string_view kKey = "nameserver";
    if (!line.starts_with(kKey) || line.size() == kKey.size() ||
        (line[kKey.size()] != ' ' && line[kKey.size()] != '\t'))
      continue;
    line.remove_prefix(kKey.size());
    const auto first = line.find_first_not_of(" \t");
    if (first == std::string_view::npos)
      continue;
    line = line.substr(first);
    line = line.substr(0, line.find_first_of(" \t\r#;"));
    const std::string address(line);
    // A stub resolver on loopback (systemd-resolved's 127.0.0.53) cannot be reached from an
    // egress address: the clients' queries would never leave by the pool.
    if (is_ip(address) && !config::is_loopback_address(address))
      out.push_back(address);
  }
  if (out.empty())
    out.emplace_back("8.8.8.8");
  return out;
}

config::Config dispatch_config(const DispatchCommand& cmd,
                               const std::vector<std::string>& resolvers) {
  config::Config c;
  c.upstream_conf_path.clear();
  c.selection = config::Selection::weighted;  // go-dispatch-proxy's ratios, interleaved
  c.probe_host = "127.0.0.1";
  c.probe_port = cmd.web.value_or(9095);
  c.listen = {config::Listener{config::FrontEnd::mixed, cmd.lhost, cmd.lport, {}}};
  c.source_ip_rules = cmd.rules;
  if (cmd.gateway) {
    c.listen.push_back(
        config::Listener{config::FrontEnd::redirect, cmd.gateway_ip, cmd.transparent_port, {}});
    c.gateway_subnets = cmd.subnets;
    c.gateway_auto_config = cmd.auto_config;
    c.gateway_nat_interface = cmd.nat_interface;
    c.dns_host = cmd.gateway_ip;
    c.dns_port = cmd.dns_port;
    c.dns_upstreams = resolvers;
  }
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
         "                          [-gateway [-transparent-port 8888] [-subnet CIDR]\n"
         "                           [-gateway-ip IP] [-auto-config] [-dns-port 5353]\n"
         "                           [-nat-interface IF]]\n"
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
         "Gateway mode (the gateway fork's flags): the host is the clients' default gateway\n"
         "  -gateway             a transparent proxy for the client subnet: redirected TCP\n"
         "                       leaves through the egresses, to where the client meant\n"
         "  -transparent-port N  port of the transparent proxy (default 8888)\n"
         "  -subnet CIDR         the clients (default 192.168.100.0/24; repeatable)\n"
         "  -gateway-ip IP       the gateway's address on the clients' side, where the proxy\n"
         "                       and the DNS forwarder listen (default 192.168.100.1)\n"
         "  -auto-config         install the redirect rules in nftables (table inet ipmanager,\n"
         "                       nothing else touched) and remove them on exit; needs\n"
         "                       CAP_NET_ADMIN. Off by default: 'ipmanager firewall print'\n"
         "                       shows the rules to install yourself\n"
         "  -dns-port N          DNS forwarder for the clients, UDP and TCP (default 5353;\n"
         "                       0: none); relays to resolv.conf's resolvers from an egress\n"
         "                       address (IPM_DNS_UPSTREAMS='[192.0.2.53]' to choose)\n"
         "  -nat-interface IF    with -auto-config: masquerade the clients' other traffic\n"
         "                       (UDP, ICMP) leaving by IF\n"
         "\n"
         "Every config key can be set with IPM_<KEY>, e.g. IPM_ALLOW_OPEN_PROXY=true to listen\n"
         "beyond loopback without users, IPM_ALLOW_DESTINATIONS='[10.0.0.0/8]' to reach\n"
         "addresses refused by default (loopback, link-local, the host's own).\n";
}

}  // namespace ipm::app
