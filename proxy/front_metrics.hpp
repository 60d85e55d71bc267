#pragma once

#include <array>
#include <string_view>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/registry.h>

#include "config/dispatch.hpp"
#include "pool/event.hpp"
#include "proxy/protocol/replies.hpp"
#include "proxy/protocol/step.hpp"

namespace ipm::proxy {

/// Metrics of the socks, http and mixed front ends and of the source/upstream egresses:
///   ipmanager_proxy_handshakes_total{front_end, protocol}       handshakes completed
///   ipmanager_proxy_handshake_failures_total{front_end, reason} protocol::Failure names,
///                                                               timeout, closed
///   ipmanager_proxy_refusals_total{front_end, reason}           protocol::Refusal names
///   ipmanager_proxy_egress_dials_total{front_end, kind, result} dial outcomes per egress kind
///   ipmanager_proxy_upstream_replies_total{protocol, code}      upstream refusal codes
/// Labels are bounded: every series but the upstream codes exists from the start; the codes
/// are bounded by their protocols (SOCKS: one byte; HTTP: 100-599). Thread-safe.
class FrontMetrics {
 public:
  explicit FrontMetrics(prometheus::Registry& registry);
  FrontMetrics(const FrontMetrics&) = delete;
  FrontMetrics& operator=(const FrontMetrics&) = delete;

  void handshake(config::FrontEnd f, protocol::FrontProtocol p) {
    handshakes_[index(f)][static_cast<std::size_t>(p)]->Increment();
  }
  void handshake_failed(config::FrontEnd f, protocol::Failure why) {
    failures_[index(f)][static_cast<std::size_t>(why)]->Increment();
  }
  void handshake_timed_out(config::FrontEnd f) { timeouts_[index(f)]->Increment(); }
  void handshake_closed(config::FrontEnd f) { closed_[index(f)]->Increment(); }
  void refused(config::FrontEnd f, protocol::Refusal r) {
    refusals_[index(f)][static_cast<std::size_t>(r)]->Increment();
  }
  void dial(config::FrontEnd f, config::EgressKind k, pool::DialResult r) {
    dials_[index(f)][static_cast<std::size_t>(k)][static_cast<std::size_t>(r)]->Increment();
  }
  void upstream_reply(config::UpstreamProtocol p, int code);

 private:
  static std::size_t index(config::FrontEnd f) { return static_cast<std::size_t>(f); }
  static constexpr std::size_t kFronts = config::kFrontEndCount;

  std::array<std::array<prometheus::Counter*, 4>, kFronts> handshakes_{};
  std::array<std::array<prometheus::Counter*, protocol::kFailureCount>, kFronts> failures_{};
  std::array<prometheus::Counter*, kFronts> timeouts_{};
  std::array<prometheus::Counter*, kFronts> closed_{};
  std::array<std::array<prometheus::Counter*, protocol::kRefusalCount>, kFronts> refusals_{};
  std::array<std::array<std::array<prometheus::Counter*, pool::kDialResultCount>,
                        config::kEgressKindCount>,
             kFronts>
      dials_{};
  prometheus::Family<prometheus::Counter>& upstream_replies_;
};

}  // namespace ipm::proxy
