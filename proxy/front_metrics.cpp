#include "proxy/front_metrics.hpp"

#include <string>

namespace ipm::proxy {
namespace {

prometheus::Family<prometheus::Counter>& family(prometheus::Registry& r, const std::string& name,
                                                const std::string& help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(r);
}

}  // namespace

FrontMetrics::FrontMetrics(prometheus::Registry& registry)
    : upstream_replies_(family(registry, "ipmanager_proxy_upstream_replies_total",
                               "Refusals of upstream proxies, by protocol and reply code "
                               "(SOCKS5 REP, SOCKS4 CD, HTTP status)")) {
  auto& handshakes = family(registry, "ipmanager_proxy_handshakes_total",
                            "Client handshakes completed, by front end and protocol");
  auto& failures = family(registry, "ipmanager_proxy_handshake_failures_total",
                          "Client handshakes that failed, by front end and reason");
  auto& refusals = family(registry, "ipmanager_proxy_refusals_total",
                          "Requests answered with a refusal after the handshake, by reason");
  auto& dials = family(registry, "ipmanager_proxy_egress_dials_total",
                       "Dials through egresses, by front end, egress kind and result");
  for (std::size_t f = 0; f < kFronts; ++f) {
    const std::string front(config::to_string(static_cast<config::FrontEnd>(f)));
    for (std::size_t p = 0; p < 4; ++p) {
      handshakes_[f][p] = &handshakes.Add(
          {{"front_end", front},
           {"protocol",
            std::string(protocol::to_string(static_cast<protocol::FrontProtocol>(p)))}});
    }
    for (std::size_t i = 0; i < protocol::kFailureCount; ++i) {
      failures_[f][i] = &failures.Add(
          {{"front_end", front},
           {"reason", std::string(protocol::to_string(static_cast<protocol::Failure>(i)))}});
    }
    timeouts_[f] = &failures.Add({{"front_end", front}, {"reason", "timeout"}});
    closed_[f] = &failures.Add({{"front_end", front}, {"reason", "closed"}});
    for (std::size_t i = 0; i < protocol::kRefusalCount; ++i) {
      refusals_[f][i] = &refusals.Add(
          {{"front_end", front},
           {"reason", std::string(protocol::to_string(static_cast<protocol::Refusal>(i)))}});
    }
    for (std::size_t k = 0; k < config::kEgressKindCount; ++k) {
      for (std::size_t r = 0; r < pool::kDialResultCount; ++r) {
        dials_[f][k][r] = &dials.Add(
            {{"front_end", front},
             {"kind", std::string(config::to_string(static_cast<config::EgressKind>(k)))},
             {"result", std::string(pool::to_string(static_cast<pool::DialResult>(r)))}});
      }
    }
  }
}

void FrontMetrics::upstream_reply(config::UpstreamProtocol p, int code) {
  if (code < 0 || code > 599)
    code = -1;
  upstream_replies_
      .Add({{"protocol", std::string(config::to_string(p))},
            {"code", code < 0 ? std::string("none") : std::to_string(code)}})
      .Increment();
}

}  // namespace ipm::proxy
