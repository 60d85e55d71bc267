#include "scanner/upstream_config.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <map>
#include <optional>
#include <set>
#include <string_view>

namespace ipm::scanner {
namespace {

struct Located {
  std::string value;
  SourceLocation where;
};

struct PortAt {
  std::uint16_t port = 0;
  SourceLocation where;
};

/// What one `server { }` block says about egress.
struct ServerFacts {
  SourceLocation where;
  std::vector<PortAt> ports;
  std::string server_name;
  std::optional<Located> bind;         ///< static proxy_bind at server level
  std::vector<Located> nested_binds;   ///< static proxy_binds in locations
  std::vector<Located> dynamic_binds;  ///< `off`, variables, non-IP values
  std::optional<PortAt> mark_port;     ///< the Go tool's `return 200 "PORT->IP"`
  std::optional<Located> mark_ip;
};

bool is_ip(std::string_view text) {
  std::string s(text);
  if (s.size() > 2 && s.front() == '[' && s.back() == ']') {
    s = s.substr(1, s.size() - 2);
  }
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

std::optional<std::uint16_t> to_port(std::string_view digits) {
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (digits.empty() || ec != std::errc{} || end != digits.data() + digits.size() || value == 0 ||
      value > 65535) {
    return std::nullopt;
  }
  return static_cast<std::uint16_t>(value);
}

/// The TCP port of a `listen` address, nothing for a unix socket. nginx's default is 80.
std::optional<std::uint16_t> listen_port(const NginxDirective& d) {
  if (d.args.empty()) {
    throw NginxConfigError(d.where, "\"listen\" without an address");
  }
  const std::string_view addr = d.args[0];
  if (addr.starts_with("unix:")) {
    return std::nullopt;
  }
  std::string_view port_text;
  if (addr.starts_with('[')) {
    const std::size_t close = addr.find(']');
    if (close == std::string_view::npos) {
      throw NginxConfigError(d.where, "invalid listen address \"" + std::string(addr) + "\"");
    }
    if (close + 1 == addr.size()) {
      return 80;
    }
    if (addr[close + 1] != ':') {
      throw NginxConfigError(d.where, "invalid listen address \"" + std::string(addr) + "\"");
    }
    port_text = addr.substr(close + 2);
  } else if (const std::size_t colon = addr.rfind(':'); colon != std::string_view::npos) {
    port_text = addr.substr(colon + 1);
  } else if (addr.find_first_not_of("0123456789") == std::string_view::npos) {
    port_text = addr;
  } else {
    return 80;  // an address without a port
  }
  const std::optional<std::uint16_t> port = to_port(port_text);
  if (!port) {
    throw NginxConfigError(d.where, "invalid port in listen \"" + std::string(addr) + "\"");
  }
  return port;
}

/// The Go tool's marker `return 200 "19001->10.0.0.1";`.
void read_mark(const NginxDirective& d, ServerFacts& facts) {
  if (d.args.size() != 2 || facts.mark_ip) {
    return;
  }
  const std::string_view text = d.args[1];
  const std::size_t arrow = text.find("->");
  if (arrow == std::string_view::npos) {
    return;
  }
  const std::optional<std::uint16_t> port = to_port(text.substr(0, arrow));
  const std::string_view ip = text.substr(arrow + 2);
  if (port && is_ip(ip)) {
    facts.mark_port = PortAt{*port, d.where};
    facts.mark_ip = Located{std::string(ip), d.where};
  }
}

void read_bind(const NginxDirective& d, ServerFacts& facts, bool server_level) {
  if (d.args.empty()) {
    throw NginxConfigError(d.where, "\"proxy_bind\" without an address");
  }
  Located bind{d.args[0], d.where};
  if (!is_ip(bind.value)) {
    facts.dynamic_binds.push_back(std::move(bind));
  } else if (server_level) {
    facts.bind = std::move(bind);
  } else {
    facts.nested_binds.push_back(std::move(bind));
  }
}

void read_nested(const std::vector<NginxDirective>& block, ServerFacts& facts) {
  for (const NginxDirective& d : block) {
    if (d.name == "proxy_bind") {
      read_bind(d, facts, false);
    } else if (d.name == "return") {
      read_mark(d, facts);
    }
    if (d.has_block) {
      read_nested(d.block, facts);
    }
  }
}

ServerFacts read_server(const NginxDirective& server) {
  ServerFacts facts;
  facts.where = server.where;
  for (const NginxDirective& d : server.block) {
    if (d.name == "listen") {
      if (const std::optional<std::uint16_t> port = listen_port(d)) {
        facts.ports.push_back({*port, d.where});
      }
    } else if (d.name == "server_name" && !d.args.empty() && facts.server_name.empty()) {
      facts.server_name = d.args[0];
    } else if (d.name == "proxy_bind") {
      read_bind(d, facts, true);
    } else if (d.name == "return") {
      read_mark(d, facts);
    }
    if (d.has_block) {
      read_nested(d.block, facts);
    }
  }
  return facts;
}

class PoolBuilder {
 public:
  explicit PoolBuilder(UpstreamConfig& out) : out_(out) {}

  void visit(const std::vector<NginxDirective>& directives) {
    for (const NginxDirective& d : directives) {
      if (d.name == "server" && d.has_block) {
        add(read_server(d));
      } else if (d.has_block) {
        visit(d.block);
      }
    }
  }

 private:
  void warn(const SourceLocation& where, const std::string& message) {
    out_.warnings.push_back(where.to_string() + ": " + message);
  }

  /// The block's egress IP: server-level proxy_bind, else a location's, else the mark.
  std::optional<Located> egress_ip(const ServerFacts& f) {
    std::optional<Located> ip = f.bind;
    if (!ip && !f.nested_binds.empty()) {
      ip = f.nested_binds.front();
      for (const Located& other : f.nested_binds) {
        if (other.value != ip->value) {
          warn(other.where, "proxy_bind " + other.value + " differs from proxy_bind " + ip->value +
                                " at " + ip->where.to_string() +
                                " in the same server block; the first one is used");
        }
      }
    }
    if (ip && f.mark_ip && f.mark_ip->value != ip->value) {
      warn(f.mark_ip->where, "return names IP " + f.mark_ip->value + " but proxy_bind at " +
                                 ip->where.to_string() + " binds " + ip->value +
                                 "; proxy_bind is used");
    }
    if (!ip) {
      ip = f.mark_ip;
    }
    if (!ip) {
      for (const Located& d : f.dynamic_binds) {
        warn(d.where,
             "proxy_bind " + d.value + " is not a fixed IP address; the server block is ignored");
      }
    }
    return ip;
  }

  void add(const ServerFacts& f) {
    const std::optional<Located> ip = egress_ip(f);
    if (!ip) {
      ++out_.ignored_blocks;
      return;
    }
    std::vector<PortAt> ports = f.ports;
    if (ports.empty()) {
      ++out_.ignored_blocks;
      warn(f.where, "server block binds " + ip->value +
                        " but has no listen port; the server block is ignored");
      return;
    }
    if (f.mark_port && f.mark_ip && f.mark_ip->value == ip->value) {
      bool listed = false;
      for (const PortAt& p : ports) {
        listed = listed || p.port == f.mark_port->port;
      }
      if (!listed) {
        warn(f.mark_port->where, "return names port " + std::to_string(f.mark_port->port) +
                                     " but the block does not listen on it");
      }
    }
    std::set<std::uint16_t> seen;
    for (const PortAt& p : ports) {
      if (seen.insert(p.port).second) {
        bind(p, *ip, f.server_name);
      }
    }
  }

  void bind(const PortAt& p, const Located& ip, const std::string& server_name) {
    const pool::Egress egress{ip.value, p.port, server_name, 1};
    if (const auto owner = port_owner_.find(p.port); owner != port_owner_.end()) {
      if (owner->second.value != ip.value) {
        throw NginxConfigError(p.where, "port " + std::to_string(p.port) +
                                            " is claimed by egress " + ip.value +
                                            " here and by egress " + owner->second.value + " at " +
                                            owner->second.where.to_string() +
                                            "; a line on this port could not be attributed");
      }
      warn(p.where, "port " + std::to_string(p.port) + " and egress " + ip.value +
                        " are already declared at " + owner->second.where.to_string() +
                        "; duplicate ignored");
      return;
    }
    port_owner_.emplace(p.port, Located{ip.value, p.where});
    out_.bindings.push_back(egress);
    if (const auto first = ip_first_.find(ip.value); first != ip_first_.end()) {
      warn(p.where, "egress " + ip.value + " is reachable through port " + std::to_string(p.port) +
                        " here and port " + std::to_string(first->second.port) + " at " +
                        first->second.where.to_string() +
                        "; lines on both are attributed to it, the pool dials the first");
      return;
    }
    ip_first_.emplace(ip.value, p);
    out_.egresses.push_back(egress);
  }

  UpstreamConfig& out_;
  std::map<std::uint16_t, Located> port_owner_;
  std::map<std::string, PortAt> ip_first_;
};

}  // namespace

UpstreamConfig upstream_from_directives(const std::vector<NginxDirective>& directives,
                                        const std::string& origin) {
  UpstreamConfig out;
  PoolBuilder(out).visit(directives);
  if (out.egresses.empty()) {
    throw NginxConfigError(
        SourceLocation{origin, 0, {}, 0},
        "no egress found: no server block has a proxy_bind address or a return \"PORT->IP\" (" +
            std::to_string(out.ignored_blocks) +
            " server blocks ignored); is this the nginx "
            "pool config?");
  }
  return out;
}

UpstreamConfig parse_upstream_config(const std::filesystem::path& path) {
  return upstream_from_directives(read_nginx_config(path), path.string());
}

}  // namespace ipm::scanner
