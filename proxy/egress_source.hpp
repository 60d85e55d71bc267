#pragma once

#include <optional>
#include <span>

#include "pool/egress.hpp"
#include "pool/event.hpp"

namespace ipm::proxy {

/// Where the proxy gets egress IPs from and where it tells what happened to them.
/// The app implements it over the pool's selection policy and the strategy engine; the proxy
/// depends on nothing else of the pool. Thread-safe: every method is called from any proxy
/// worker thread, concurrently, and must not block on I/O.
class EgressSource {
 public:
  virtual ~EgressSource() = default;

  /// The next egress to dial for `request` (an egress that can serve it, see pool::can_serve),
  /// never one of `tried` (the egresses that already failed for this connection). nullopt when
  /// the pool has nothing to offer: the client is then refused.
  virtual std::optional<pool::Egress> pick(const pool::Request& request,
                                           std::span<const pool::Egress> tried) = 0;

  /// Outcome of one dial, reported as soon as it is known and before any byte is relayed,
  /// so a dead IP leaves rotation at once. The views in `outcome` are valid during the call.
  virtual void report(const pool::DialOutcome& outcome) = 0;

  /// A pick that got no dial outcome: the client left during the dial, or the proxy itself
  /// could not dial (out of descriptors or local ports, not the egress's fault). Releases
  /// what pick() holds without a word to the health engine. Every pick() is followed by
  /// exactly one report() or abandoned().
  virtual void abandoned(const pool::Egress& egress) = 0;

  /// A relay through `egress` starts / ends (least_conn accounting). Every opened() is
  /// followed by exactly one closed() for the same egress.
  virtual void opened(const pool::Egress& egress) = 0;
  virtual void closed(const pool::Egress& egress) = 0;

  /// Whether a connection's target (the host its first bytes name) would change what pick()
  /// chooses now: then a connection whose first bytes have not arrived at accept is given a
  /// moment for them before the dial (see Worker). False by default.
  virtual bool wants_target() { return false; }
};

}  // namespace ipm::proxy
