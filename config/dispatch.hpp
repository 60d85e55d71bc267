#pragma once

// Config types of the front ends (`listen`) and of the egresses that are not nginx's
// (`egresses`): dispatch mode, go-dispatch-proxy's source IPs and upstream proxies.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/cidr.hpp"
#include "config/duration.hpp"

namespace YAML {
class Node;
}

namespace ipm::config {

/// How clients reach the proxy.
enum class FrontEnd : std::uint8_t {
  tcp,    ///< plain TCP to an nginx egress's port (the original proxy)
  socks,  ///< SOCKS5 (RFC 1929 auth), SOCKS4 and 4a
  http,   ///< HTTP CONNECT and absolute-URI requests
  mixed,  ///< socks or http, told apart by the first byte
  /// gateway mode: connections an nftables/iptables redirect brought here, to their original
  /// destination (SO_ORIGINAL_DST)
  redirect,
};
inline constexpr std::size_t kFrontEndCount = 5;

/// How a connection leaves the host.
enum class EgressKind : std::uint8_t {
  nginx,     ///< to next:PORT of the nginx pool (from upstream_conf_path)
  source,    ///< bound to a local IP (and optionally an interface), then to the destination
  upstream,  ///< through an upstream SOCKS5, SOCKS4 or HTTP CONNECT proxy
};
inline constexpr std::size_t kEgressKindCount = 3;

enum class UpstreamProtocol : std::uint8_t { socks5, socks4, http };

/// What keeps a front end's requests on one egress (sticky sessions, by rendezvous hashing over
/// the egresses selectable for the request); none: the pool's policy picks.
enum class Sticky : std::uint8_t {
  none,
  client,       ///< the client's address
  username,     ///< the session part of the username ("alice-session-abc123": "abc123")
  key,          ///< the tcp front end's X-Egress-Key header among the first bytes
  destination,  ///< the destination host (tcp: X-Egress-Host, else Host)
};

/// The destination address families an egress can reach.
enum class Family : std::uint8_t { any, ipv4, ipv6 };

std::string_view to_string(FrontEnd f);
std::string_view to_string(EgressKind k);
std::string_view to_string(UpstreamProtocol p);
std::string_view to_string(Family f);
std::string_view to_string(Sticky s);

struct ProxyUser {
  std::string name;
  std::string password;  ///< secret
  friend bool operator==(const ProxyUser&, const ProxyUser&) = default;
};

/// One front end (`listen:` entry).
struct Listener {
  FrontEnd type = FrontEnd::mixed;
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  std::vector<ProxyUser> users;  ///< empty: no client authentication
  Sticky sticky = Sticky::none;
  friend bool operator==(const Listener&, const Listener&) = default;
};

/// An active check through an egress: a TCP connect to host:port, or an HTTP GET of a URL
/// whose answer must be 2xx or 3xx. Written "tcp://HOST:PORT" or "http://HOST[:PORT][/PATH]"
/// (an IPv6 host in brackets).
struct EgressCheck {
  enum class Kind : std::uint8_t { tcp, http };
  Kind kind = Kind::tcp;
  std::string host;
  std::uint16_t port = 0;
  std::string path;  ///< http: the request target ("/" when the URL has none)
  std::string text;  ///< as written
  friend bool operator==(const EgressCheck&, const EgressCheck&) = default;
};

/// A check from its text; nullopt and `why` set when it is not one.
std::optional<EgressCheck> parse_egress_check(std::string_view text, std::string& why);

/// One egress of the `egresses:` list.
struct EgressSpec {
  EgressKind kind = EgressKind::source;
  std::string address;     ///< source: the local IP (found from `interface` when empty)
  std::string interface;   ///< source: bind to this device too (SO_BINDTODEVICE)
  std::string host;        ///< upstream: the proxy's host
  std::uint16_t port = 0;  ///< upstream: the proxy's port
  UpstreamProtocol protocol = UpstreamProtocol::socks5;
  std::string username;  ///< upstream credentials
  std::string password;  ///< secret
  std::uint32_t weight = 1;
  std::optional<EgressCheck> check;                 ///< an active check through the egress
  Millis check_interval{std::chrono::seconds(30)};  ///< how often `check` runs
  friend bool operator==(const EgressSpec&, const EgressSpec&) = default;
};

/// Parse one YAML value of `listen` / `egresses` / `allow_destinations`...; throw
/// ConfigError naming the key, the entry and the problem.
std::vector<Listener> read_listeners(const YAML::Node& node);
std::vector<EgressSpec> read_egresses(const YAML::Node& node);
/// CIDR rules: "10.0.0.0/8", "::1", "127.0.0.1/32:8080", "0.0.0.0/0:25" (an IP or CIDR,
/// with an optional port; IPv6 with a port is bracketed: "[::1]:80").
std::vector<AddressRule> read_address_rules(std::string_view key, const YAML::Node& node);

/// A resolver the DNS forwarder relays to.
struct DnsUpstream {
  std::string address;
  std::uint16_t port = 53;
  friend bool operator==(const DnsUpstream&, const DnsUpstream&) = default;
};
/// "192.0.2.53", "192.0.2.53:5353", "2001:db8::53", "[2001:db8::53]:53"; nullopt and `why`
/// set otherwise (a name is refused: the forwarder would need a resolver to find its resolver).
std::optional<DnsUpstream> parse_dns_upstream(std::string_view text, std::string& why);
std::vector<std::string> read_dns_upstreams(const YAML::Node& node);

/// Whether a listen address is loopback (127.0.0.0/8, ::1): anything else is reachable by
/// others.
bool is_loopback_address(std::string_view host);

}  // namespace ipm::config
