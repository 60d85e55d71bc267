#include "config/dispatch.hpp"

#include <arpa/inet.h>

#include <charconv>

#include <yaml-cpp/yaml.h>

#include "config/errors.hpp"

namespace ipm::config {
namespace {

std::string where(std::string_view key, std::size_t index, std::string_view field) {
  return std::string(key) + "[" + std::to_string(index) + "]" +
         (field.empty() ? "" : "." + std::string(field));
}

[[noreturn]] void bad(std::string_view key, const std::string& message) {
  throw ConfigError(std::string(key), message);
}

std::string text(const YAML::Node& n, const std::string& place) {
  if (!n.IsScalar())
    bad(place, "expected a string");
  return n.Scalar();
}

long long integer(const YAML::Node& n, const std::string& place, long long min, long long max) {
  long long v = 0;
  try {
    v = n.as<long long>();
  } catch (const YAML::Exception&) {
    bad(place, "expected an integer, got '" + (n.IsScalar() ? n.Scalar() : "?") + "'");
  }
  if (v < min || v > max) {
    bad(place, "must be between " + std::to_string(min) + " and " + std::to_string(max) + ", got " +
                   std::to_string(v));
  }
  return v;
}

bool is_ip(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

template <class Enum, std::size_t N>
Enum pick(const std::string& place, const std::string& value,
          const std::array<std::pair<std::string_view, Enum>, N>& names) {
  std::string allowed;
  for (const auto& [name, e] : names) {
    if (value == name)
      return e;
    allowed += (allowed.empty() ? "" : ", ") + std::string(name);
  }
  bad(place, "'" + value + "' is not one of: " + allowed);
}

// Each entry is a mapping whose keys are all known: a typo names the entry and the field.
void check_fields(std::string_view key, const YAML::Node& entry, std::size_t i,
                  std::initializer_list<std::string_view> known) {
  if (!entry.IsMap())
    bad(where(key, i, ""), "expected a mapping");
  for (const auto& field : entry) {
    const std::string name = field.first.Scalar();
    if (std::find(known.begin(), known.end(), name) == known.end())
      bad(where(key, i, name), "unknown field");
    if (field.second.IsNull())
      bad(where(key, i, name), "has no value");
  }
}

constexpr std::array<std::pair<std::string_view, FrontEnd>, 5> kFrontEnds{
    {{"tcp", FrontEnd::tcp},
     {"socks", FrontEnd::socks},
     {"http", FrontEnd::http},
     {"mixed", FrontEnd::mixed},
     {"redirect", FrontEnd::redirect}}};
constexpr std::array<std::pair<std::string_view, Sticky>, 5> kSticky{
    {{"none", Sticky::none},
     {"client", Sticky::client},
     {"username", Sticky::username},
     {"key", Sticky::key},
     {"destination", Sticky::destination}}};
constexpr std::array<std::pair<std::string_view, EgressKind>, 2> kKinds{
    {{"source", EgressKind::source}, {"upstream", EgressKind::upstream}}};
constexpr std::array<std::pair<std::string_view, UpstreamProtocol>, 3> kProtocols{
    {{"socks5", UpstreamProtocol::socks5},
     {"socks4", UpstreamProtocol::socks4},
     {"http", UpstreamProtocol::http}}};

}  // namespace

std::optional<EgressCheck> parse_egress_check(std::string_view text, std::string& why) {
  EgressCheck c;
  c.text = std::string(text);
  const auto scheme_end = text.find("://");
  const std::string_view scheme =
      scheme_end == std::string_view::npos ? std::string_view{} : text.substr(0, scheme_end);
  if (scheme == "tcp") {
    c.kind = EgressCheck::Kind::tcp;
  } else if (scheme == "http") {
    c.kind = EgressCheck::Kind::http;
    c.port = 80;
  } else {
    why = "'" + c.text + "': expected tcp://HOST:PORT or http://HOST[:PORT][/PATH]";
    return std::nullopt;
  }
  std::string_view rest = text.substr(scheme_end + 3);
  std::string_view authority = rest.substr(0, rest.find('/'));
  c.path = authority.size() < rest.size() ? std::string(rest.substr(authority.size())) : "/";
  std::string_view port_text;
  if (authority.starts_with('[')) {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) {
      why = "'" + c.text + "': missing ']'";
      return std::nullopt;
    }
    c.host = std::string(authority.substr(1, close - 1));
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') {
        why = "'" + c.text + "': expected ':' after ']'";
        return std::nullopt;
      }
      port_text = authority.substr(close + 2);
      if (port_text.empty())
        port_text = "x";  // "[::1]:" has an empty port: refused below
    }
  } else {
    const auto colon = authority.rfind(':');
    c.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      if (port_text.empty())
        port_text = "x";
    }
  }
  if (c.host.empty() || c.host.find_first_of(" \t\r\n@") != std::string::npos) {
    why = "'" + c.text + "': no host";
    return std::nullopt;
  }
  if (!port_text.empty()) {
    unsigned p = 0;
    const auto [end, ec] =
        std::from_chars(port_text.data(), port_text.data() + port_text.size(), p);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || p == 0 || p > 65535) {
      why = "'" + c.text + "': bad port (1-65535)";
      return std::nullopt;
    }
    c.port = static_cast<std::uint16_t>(p);
  }
  if (c.port == 0) {
    why = "'" + c.text + "': a tcp check needs a port";
    return std::nullopt;
  }
  if (c.path.find_first_of(" \t\r\n") != std::string::npos) {
    why = "'" + c.text + "': the path has white space";
    return std::nullopt;
  }
  return c;
}

std::string_view to_string(FrontEnd f) {
  return kFrontEnds[static_cast<std::size_t>(f)].first;
}

std::string_view to_string(Sticky s) {
  return kSticky[static_cast<std::size_t>(s)].first;
}

std::string_view to_string(EgressKind k) {
  switch (k) {
    case EgressKind::nginx:
      return "nginx";
    case EgressKind::source:
      return "source";
    case EgressKind::upstream:
      return "upstream";
  }
  return "nginx";
}

std::string_view to_string(UpstreamProtocol p) {
  return kProtocols[static_cast<std::size_t>(p)].first;
}

std::string_view to_string(Family f) {
  switch (f) {
    case Family::any:
      return "any";
    case Family::ipv4:
      return "ipv4";
    case Family::ipv6:
      return "ipv6";
  }
  return "any";
}

bool is_loopback_address(std::string_view host) {
  unsigned char buf[16];
  const std::string h(host);
  if (inet_pton(AF_INET, h.c_str(), buf) == 1)
    return buf[0] == 127;
  if (inet_pton(AF_INET6, h.c_str(), buf) == 1) {
    static constexpr unsigned char kLoopback[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    return std::equal(buf, buf + 16, kLoopback);
  }
  return h == "localhost";
}

std::vector<Listener> read_listeners(const YAML::Node& node) {
  constexpr std::string_view key = "listen";
  if (!node.IsSequence())
    bad(key, "expected a list of front ends ({type, host, port, users, sticky})");
  std::vector<Listener> out;
  for (std::size_t i = 0; i < node.size(); ++i) {
    const YAML::Node& entry = node[i];
    check_fields(key, entry, i, {"type", "host", "port", "users", "sticky"});
    Listener l;
    if (!entry["type"])
      bad(where(key, i, "type"), "is required (tcp, socks, http, mixed or redirect)");
    l.type = pick(where(key, i, "type"), text(entry["type"], where(key, i, "type")), kFrontEnds);
    if (entry["host"]) {
      l.host = text(entry["host"], where(key, i, "host"));
      if (!is_ip(l.host))
        bad(where(key, i, "host"), "'" + l.host + "' is not an IP address");
    }
    if (!entry["port"])
      bad(where(key, i, "port"), "is required");
    l.port = static_cast<std::uint16_t>(integer(entry["port"], where(key, i, "port"), 0, 65535));
    if (const auto users = entry["users"]) {
      if (!users.IsSequence())
        bad(where(key, i, "users"), "expected a list of {name, password}");
      for (std::size_t u = 0; u < users.size(); ++u) {
        const std::string place = where(key, i, "users") + "[" + std::to_string(u) + "]";
        if (!users[u].IsMap() || !users[u]["name"] || !users[u]["password"])
          bad(place, "expected {name, password}");
        ProxyUser user{text(users[u]["name"], place), text(users[u]["password"], place)};
        if (user.name.empty() || user.name.size() > 255 || user.password.size() > 255)
          bad(place, "name must be 1-255 bytes and password at most 255 (RFC 1929)");
        l.users.push_back(std::move(user));
      }
    }
    if ((l.type == FrontEnd::tcp || l.type == FrontEnd::redirect) && !l.users.empty())
      bad(where(key, i, "users"),
          "a " + std::string(to_string(l.type)) + " front end has no authentication");
    if (entry["sticky"]) {
      const std::string place = where(key, i, "sticky");
      l.sticky = pick(place, text(entry["sticky"], place), kSticky);
      // Each key comes from what the front end reads: usernames from authenticating clients,
      // X-Egress-Key from a tcp client's first bytes.
      if (l.sticky == Sticky::username && l.users.empty())
        bad(place,
            "username needs users: the session key is part of the name a client "
            "authenticates with (alice-session-KEY)");
      if (l.sticky == Sticky::key && l.type != FrontEnd::tcp)
        bad(place, "key is the X-Egress-Key header of a tcp front end's first bytes; a " +
                       std::string(to_string(l.type)) +
                       " front end can use client, username or destination");
    }
    out.push_back(std::move(l));
  }
  return out;
}

std::vector<EgressSpec> read_egresses(const YAML::Node& node) {
  constexpr std::string_view key = "egresses";
  if (!node.IsSequence())
    bad(key,
        "expected a list of egresses ({kind: source, address} or {kind: upstream, host, port})");
  std::vector<EgressSpec> out;
  for (std::size_t i = 0; i < node.size(); ++i) {
    const YAML::Node& entry = node[i];
    check_fields(key, entry, i,
                 {"kind", "address", "interface", "host", "port", "protocol", "username",
                  "password", "weight", "check", "check_interval"});
    EgressSpec e;
    if (!entry["kind"])
      bad(where(key, i, "kind"), "is required (source or upstream)");
    e.kind = pick(where(key, i, "kind"), text(entry["kind"], where(key, i, "kind")), kKinds);
    const auto field = [&](std::string_view name) -> std::string {
      const YAML::Node n = entry[std::string(name)];
      return n ? text(n, where(key, i, name)) : std::string();
    };
    e.address = field("address");
    e.interface = field("interface");
    e.host = field("host");
    e.username = field("username");
    e.password = field("password");
    if (entry["port"])
      e.port = static_cast<std::uint16_t>(integer(entry["port"], where(key, i, "port"), 1, 65535));
    if (entry["protocol"])
      e.protocol = pick(where(key, i, "protocol"), field("protocol"), kProtocols);
    if (entry["weight"])
      e.weight = static_cast<std::uint32_t>(
          integer(entry["weight"], where(key, i, "weight"), 1, 1'000'000));
    if (entry["check"]) {
      std::string why;
      e.check = parse_egress_check(field("check"), why);
      if (!e.check)
        bad(where(key, i, "check"), why);
    }
    if (entry["check_interval"]) {
      const std::string place = where(key, i, "check_interval");
      if (!e.check)
        bad(place, "needs a check");
      std::string why;
      const auto d =
          parse_duration(text(entry["check_interval"], place), std::chrono::seconds(1), why);
      if (!d)
        bad(place, why);
      if (*d < std::chrono::seconds(1) || *d > std::chrono::hours(24))
        bad(place, "must be between 1s and 24h");
      e.check_interval = *d;
    }

    const auto not_for = [&](std::string_view name, std::string_view kind) {
      if (entry[std::string(name)])
        bad(where(key, i, name), "not used by " + std::string(kind) + " egresses");
    };
    if (e.kind == EgressKind::source) {
      for (const auto name : {"host", "port", "protocol", "username", "password"})
        not_for(name, "source");
      if (e.address.empty() && e.interface.empty())
        bad(where(key, i, "address"), "a source egress needs an address or an interface");
      if (!e.address.empty() && !is_ip(e.address))
        bad(where(key, i, "address"), "'" + e.address + "' is not an IP address");
      if (e.interface.size() >= 16)
        bad(where(key, i, "interface"),
            "'" + e.interface + "' is longer than an interface name (15)");
    } else {
      for (const auto name : {"address", "interface"})
        not_for(name, "upstream");
      if (e.host.empty())
        bad(where(key, i, "host"), "an upstream egress needs a host");
      if (e.port == 0)
        bad(where(key, i, "port"), "an upstream egress needs a port");
      if (e.protocol == UpstreamProtocol::socks4 && !e.password.empty())
        bad(where(key, i, "password"), "SOCKS4 has no password (username is its USERID)");
      if (e.username.size() > 255 || e.password.size() > 255)
        bad(where(key, i, "username"), "username and password are at most 255 bytes");
    }
    out.push_back(std::move(e));
  }
  return out;
}

std::vector<AddressRule> read_address_rules(std::string_view key, const YAML::Node& node) {
  const auto parse = [](const YAML::Node& n, const std::string& place) {
    std::string why;
    auto rule = parse_address_rule(text(n, place), why);
    if (!rule)
      bad(place, why);
    return *rule;
  };
  std::vector<AddressRule> out;
  if (node.IsScalar()) {
    out.push_back(parse(node, std::string(key)));
  } else if (node.IsSequence()) {
    for (std::size_t i = 0; i < node.size(); ++i)
      out.push_back(parse(node[i], where(key, i, "")));
  } else {
    bad(key,
        "expected a list of CIDRs, each with an optional port (\"10.0.0.0/8\", "
        "\"127.0.0.1/32:8080\", \"[::1]:80\")");
  }
  return out;
}

std::optional<DnsUpstream> parse_dns_upstream(std::string_view text, std::string& why) {
  std::string host(text);
  std::uint16_t port = 53;
  const auto colon = host.rfind(':');
  const bool bracketed = host.starts_with('[');
  // "IP:port" and "[v6]:port"; a bare IPv6 address has colons and no port.
  if (bracketed || (colon != std::string::npos && host.find(':') == colon)) {
    const auto close = host.find(']');
    if (bracketed && (close == std::string::npos || close + 1 != colon)) {
      why = "'" + std::string(text) + "' is not IP, IP:port or [IPv6]:port";
      return std::nullopt;
    }
    unsigned v = 0;
    const std::string digits = host.substr(colon + 1);
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
    if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() || v == 0 ||
        v > 65535) {
      why = "'" + std::string(text) + "' has no valid port (1-65535)";
      return std::nullopt;
    }
    port = static_cast<std::uint16_t>(v);
    host = bracketed ? host.substr(1, close - 1) : host.substr(0, colon);
  }
  if (!is_ip(host)) {
    why = "'" + host + "' is not an IP address (a resolver is named by its address)";
    return std::nullopt;
  }
  return DnsUpstream{host, port};
}

std::vector<std::string> read_dns_upstreams(const YAML::Node& node) {
  constexpr std::string_view key = "dns_upstreams";
  std::vector<std::string> out;
  const auto add = [&](const YAML::Node& n, const std::string& place) {
    std::string why;
    if (!parse_dns_upstream(text(n, place), why))
      bad(place, why);
    out.push_back(n.Scalar());
  };
  if (node.IsScalar() && !node.Scalar().empty()) {
    add(node, std::string(key));
  } else if (node.IsSequence()) {
    for (std::size_t i = 0; i < node.size(); ++i)
      add(node[i], where(key, i, ""));
  } else if (!node.IsScalar()) {
    bad(key, "expected a list of resolvers (\"192.0.2.53\", \"[2001:db8::53]:53\")");
  }
  return out;
}

}  // namespace ipm::config
