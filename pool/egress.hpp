#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "config/dispatch.hpp"
#include "pool/site_name.hpp"

namespace ipm::pool {

using config::EgressKind;
using config::Family;
using config::UpstreamProtocol;

/// One egress: a way out of the host, with its own health.
///   nginx:    a request sent to `next:port` leaves the host from `ip` (nginx binds it);
///   source:   the proxy binds `ip` (and `interface`, when set) and connects to the destination;
///   upstream: the proxy asks the upstream proxy at `host:port` for the destination.
/// `ip` is the egress's stable id everywhere (engine, probe, metrics, API): the IP for nginx
/// and source egresses, "host:port" for upstream ones.
struct Egress {
  std::string ip;            ///< the id; for nginx the `proxy_bind` address as nginx has it
  std::uint16_t port = 0;    ///< nginx: the `listen` port of its server block; upstream: its port
  std::string server_name;   ///< nginx: the block's `server_name`, empty when it has none
  std::uint32_t weight = 1;  ///< relative share for the weighted policy; 1 unless configured
  EgressKind kind = EgressKind::nginx;
  Family family = Family::any;  ///< destinations it can reach (a source: its IP's family)
  std::string interface {};     ///< source: also bound to this device (SO_BINDTODEVICE)
  std::string host{};           ///< upstream: the proxy's host (IP or name)
  UpstreamProtocol protocol = UpstreamProtocol::socks5;  ///< upstream
  std::string username{};                                ///< upstream credentials
  std::string password{};                                ///< secret: never shown

  friend bool operator==(const Egress&, const Egress&) = default;
};

/// "ip:port" for nginx egresses, the id otherwise; for logs and messages.
std::string to_string(const Egress& e);

/// A client's request, as far as selection may depend on it (stickiness and per-client rules
/// read the client, username and key; eligibility the kinds and the family).
/// The views are valid for the call that receives the request.
struct Request {
  std::string_view client;    ///< "addr:port" of the client
  std::string_view username;  ///< SOCKS or Proxy-Authorization username, empty without
  std::string_view host;      ///< destination host (domain or IP), empty for tcp
  /// The target host for health per target site: the tcp front end's X-Egress-Host (else
  /// Host) among the client's first bytes; empty: `host` is the target.
  std::string_view target;
  /// The target's site (grouped by target_grouping), set by whoever picks; empty: none.
  SiteName site;
  std::uint16_t port = 0;  ///< destination port, 0 for tcp
  std::string_view key;    ///< an egress key (X-Egress-Key), empty without
  config::FrontEnd front_end = config::FrontEnd::tcp;
  /// The address families the destination has: an IP destination one, a resolved domain
  /// those of its addresses, an unresolved one `any`.
  Family family = Family::any;
  /// Egress kinds that can serve it, a bit per EgressKind.
  std::uint8_t kinds = kind_bit(EgressKind::nginx);

  static constexpr std::uint8_t kind_bit(EgressKind k) {
    return static_cast<std::uint8_t>(1U << static_cast<unsigned>(k));
  }
};

/// The tcp front end's request: any nginx egress.
inline const Request kNginxRequest{};

/// Whether `e` can serve `r`: its kind is wanted and it reaches the destination's family.
bool can_serve(const Egress& e, const Request& r);
/// The same for an egress of `kind` reaching `family`.
bool can_serve(EgressKind kind, Family family, const Request& r);

}  // namespace ipm::pool
