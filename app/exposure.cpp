#include "app/exposure.hpp"

#include "config/cidr.hpp"

namespace ipm::app {

bool is_loopback_address(const std::string& address) {
  std::string why;
  const auto a = config::Cidr::parse(address, why);
  if (!a)
    return false;
  static const auto v4 = config::Cidr::parse("127.0.0.0/8", why);
  static const auto v6 = config::Cidr::parse("::1", why);
  return a->v4 ? v4->contains(a->bytes.data(), true) : v6->contains(a->bytes.data(), false);
}

std::vector<std::string> exposure_warnings(const config::Config& c) {
  std::vector<std::string> out;
  if (!is_loopback_address(c.probe_host)) {
    if (c.api_token.empty()) {
      out.push_back("probe_host " + c.probe_host +
                    " is not loopback and api_token is unset: /probe, /config, /metrics and "
                    "/api/decisions (client addresses) are open to the network; set api_token "
                    "or api_token_file, and require_token_for_reads");
    } else if (!c.require_token_for_reads) {
      out.push_back("probe_host " + c.probe_host +
                    " is not loopback and require_token_for_reads is false: the read routes "
                    "(/probe, /config, /metrics, /api/decisions) are open to the network");
    }
  }
  if (!is_loopback_address(c.proxy_host) && c.proxy_allow_clients.empty()) {
    out.push_back("proxy_host " + c.proxy_host +
                  " is not loopback and proxy_allow_clients is empty: every client that reaches "
                  "it egresses through the pool; list the clients' address blocks");
  }
  return out;
}

}  // namespace ipm::app
