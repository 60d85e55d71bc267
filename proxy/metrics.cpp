#include "proxy/metrics.hpp"

#include <string>

namespace ipm::proxy {
namespace {

prometheus::Family<prometheus::Counter>& counter_family(prometheus::Registry& r,
                                                        const std::string& name,
                                                        const std::string& help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(r);
}

}  // namespace

std::string_view to_string(DialFailure f) {
  switch (f) {
    case DialFailure::refused:
      return "refused";
    case DialFailure::timeout:
      return "timeout";
    case DialFailure::unreachable:
      return "unreachable";
    case DialFailure::error:
      return "error";
    case DialFailure::local:
      return "local";
  }
  return "error";
}

ProxyMetrics::ProxyMetrics(prometheus::Registry& registry)
    : active(prometheus::BuildGauge()
                 .Name("ipmanager_proxy_active_connections")
                 .Help("Client connections open in the proxy (dialing or relaying)")
                 .Register(registry)
                 .Add({})),
      max_connections(prometheus::BuildGauge()
                          .Name("ipmanager_proxy_max_connections")
                          .Help("Client connections the proxy holds at once: max_connections, or "
                                "fewer when the file descriptor limit cannot hold that many")
                          .Register(registry)
                          .Add({})),
      bytes_up(counter_family(registry, "ipmanager_proxy_relayed_bytes_total",
                              "Bytes relayed by the proxy, by direction (up: client to egress)")
                   .Add({{"direction", "up"}})),
      bytes_down(counter_family(registry, "ipmanager_proxy_relayed_bytes_total",
                                "Bytes relayed by the proxy, by direction (up: client to egress)")
                     .Add({{"direction", "down"}})),
      spliced_bytes(counter_family(registry, "ipmanager_proxy_spliced_bytes_total",
                                   "Of the relayed bytes, those moved with splice(2) "
                                   "(proxy_splice), uncopied")
                        .Add({})),
      dial_duration_(
          prometheus::BuildHistogram()
              .Name("ipmanager_proxy_dial_duration_seconds")
              .Help("Time to connect to next:port for successful dials")
              .Register(registry)
              .Add({}, prometheus::Histogram::BucketBoundaries{0.0001, 0.00025, 0.0005, 0.001,
                                                               0.0025, 0.005, 0.01, 0.025, 0.05,
                                                               0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15})),
      accept_fd_limit_(counter_family(registry, "ipmanager_proxy_accept_errors_total",
                                      "Failed accepts; fd_limit means EMFILE/ENFILE (backoff)")
                           .Add({{"kind", "fd_limit"}})),
      accept_other_(counter_family(registry, "ipmanager_proxy_accept_errors_total",
                                   "Failed accepts; fd_limit means EMFILE/ENFILE (backoff)")
                        .Add({{"kind", "other"}})),
      accept_paused_(counter_family(registry, "ipmanager_proxy_accept_paused_total",
                                    "Times accepting paused because max_connections was reached")
                         .Add({})),
      clients_refused_(counter_family(registry, "ipmanager_proxy_clients_refused_total",
                                      "Client connections closed at accept: the client is not "
                                      "in proxy_allow_clients")
                           .Add({})) {
  auto& ends = counter_family(registry, "ipmanager_proxy_connections_total",
                              "Client connections handled by the proxy, by how they ended");
  for (std::size_t i = 0; i < kEnds; ++i) {
    const auto end = static_cast<pool::ConnectionEnd>(i);
    connections_[i] = &ends.Add({{"result", std::string(pool::to_string(end))}});
  }
  auto& failures = counter_family(registry, "ipmanager_proxy_dial_failures_total",
                                  "Failed dials to next:port, by kind (local: the proxy's own)");
  for (std::size_t i = 0; i < kFailures; ++i) {
    const auto kind = static_cast<DialFailure>(i);
    dial_failures_[i] = &failures.Add({{"kind", std::string(to_string(kind))}});
  }
}

}  // namespace ipm::proxy
