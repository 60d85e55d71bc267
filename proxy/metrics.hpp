#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "pool/decision_log.hpp"
#include "pool/event.hpp"

namespace ipm::proxy {

/// Why a dial did not give a connection. `local` is the proxy's own trouble (out of file
/// descriptors or local ports): it is not the egress IP's fault and is never reported to it.
enum class DialFailure : std::uint8_t { refused, timeout, unreachable, error, local };

std::string_view to_string(DialFailure f);

/// The proxy's Prometheus metrics, registered once in the registry the app serializes.
/// Thread-safe: prometheus-cpp metrics are atomics.
class ProxyMetrics {
 public:
  explicit ProxyMetrics(prometheus::Registry& registry);
  ProxyMetrics(const ProxyMetrics&) = delete;
  ProxyMetrics& operator=(const ProxyMetrics&) = delete;

  void connection_ended(pool::ConnectionEnd end) {
    connections_[static_cast<std::size_t>(end)]->Increment();
  }
  /// Per kind; the per-IP count is the strategy engine's (ipmanager_ip_dial_failures_total).
  void dial_failed(DialFailure kind) {
    dial_failures_[static_cast<std::size_t>(kind)]->Increment();
  }
  void dial_succeeded(double seconds) { dial_duration_.Observe(seconds); }
  void accept_failed(bool out_of_fds) {
    (out_of_fds ? accept_fd_limit_ : accept_other_).Increment();
  }
  void accept_paused() { accept_paused_.Increment(); }
  /// A client outside proxy_allow_clients, closed at accept.
  void client_refused() { clients_refused_.Increment(); }

  prometheus::Gauge& active;
  prometheus::Gauge& max_connections;  ///< the effective cap (see DescriptorBudget)
  prometheus::Counter& bytes_up;       ///< client -> egress
  prometheus::Counter& bytes_down;     ///< egress -> client
  prometheus::Counter& spliced_bytes;  ///< of those, moved with splice(2)

 private:
  static constexpr std::size_t kEnds = 10;
  static constexpr std::size_t kFailures = 5;

  std::array<prometheus::Counter*, kEnds> connections_{};
  std::array<prometheus::Counter*, kFailures> dial_failures_{};
  prometheus::Histogram& dial_duration_;
  prometheus::Counter& accept_fd_limit_;
  prometheus::Counter& accept_other_;
  prometheus::Counter& accept_paused_;
  prometheus::Counter& clients_refused_;
};

}  // namespace ipm::proxy
