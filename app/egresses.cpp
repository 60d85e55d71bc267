#include "app/egresses.hpp"

#include <algorithm>

#include "config/errors.hpp"

namespace ipm::app {
namespace {

config::Family family_of(const std::string& ip) {
  return ip.find(':') != std::string::npos ? config::Family::ipv6 : config::Family::ipv4;
}

// The address a source named by its interface leaves from.
std::string address_of(const std::string& interface,
                       const std::vector<proxy::InterfaceAddress>& interfaces) {
  for (const bool v6 : {false, true}) {
    for (const auto& a : interfaces) {
      if (a.interface == interface && a.address.is_v6() == v6 &&
          !(v6 && a.address.to_v6().is_link_local()))
        return a.address.to_string();
    }
  }
  return {};
}

bool on_an_interface(const std::string& ip,
                     const std::vector<proxy::InterfaceAddress>& interfaces) {
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(ip, ec);
  if (ec)
    return false;
  // 127.0.0.0/8 is bindable as a whole (lo holds 127.0.0.1/8), without each address listed.
  if (address.is_v4() && address.to_v4().to_bytes()[0] == 127)
    return true;
  return std::any_of(interfaces.begin(), interfaces.end(),
                     [&](const auto& a) { return a.address == address; });
}

}  // namespace

std::vector<pool::Egress> build_egresses(const config::Config& config,
                                         const std::vector<proxy::InterfaceAddress>& interfaces,
                                         std::vector<std::string>& warnings) {
  std::vector<pool::Egress> out;
  for (std::size_t i = 0; i < config.egresses.size(); ++i) {
    const config::EgressSpec& spec = config.egresses[i];
    const std::string place = "egresses[" + std::to_string(i) + "]";
    pool::Egress e;
    e.kind = spec.kind;
    e.weight = spec.weight;
    if (spec.kind == config::EgressKind::source) {
      e.ip = spec.address;
      e.interface = spec.interface;
      if (e.ip.empty()) {
        e.ip = address_of(spec.interface, interfaces);
        if (e.ip.empty())
          throw config::ConfigError(place + ".interface",
                                    "'" + spec.interface + "' has no usable address");
      } else if (!on_an_interface(e.ip, interfaces)) {
        warnings.push_back(place + ".address: " + e.ip +
                           " is on no interface now: its dials fail until it appears");
      }
      e.family = family_of(e.ip);
    } else {
      e.host = spec.host;
      e.port = spec.port;
      e.protocol = spec.protocol;
      e.username = spec.username;
      e.password = spec.password;
      e.ip = (family_of(spec.host) == config::Family::ipv6 ? "[" + spec.host + "]" : spec.host) +
             ":" + std::to_string(spec.port);
      // SOCKS4 has no IPv6 address type (4a sends names only).
      e.family = spec.protocol == config::UpstreamProtocol::socks4 ? config::Family::ipv4
                                                                   : config::Family::any;
    }
    const auto twin =
        std::find_if(out.begin(), out.end(), [&](const pool::Egress& o) { return o.ip == e.ip; });
    if (twin != out.end()) {
      throw config::ConfigError(
          place, e.ip + " is also egresses[" + std::to_string(twin - out.begin()) + "]");
    }
    out.push_back(std::move(e));
  }
  return out;
}

std::string list_interfaces(const std::vector<proxy::InterfaceAddress>& interfaces) {
  std::string out = "--- Listing the available adresses for dispatching\n";
  for (const auto& a : interfaces) {
    if (a.up && !a.loopback && !(a.address.is_v6() && a.address.to_v6().is_link_local())) {
      out += "[+] " + a.interface + ", " + (a.address.is_v4() ? "IPv4:" : "IPv6:") +
             a.address.to_string() + "\n";
    }
  }
  return out;
}

}  // namespace ipm::app
