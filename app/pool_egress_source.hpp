#pragma once

#include <mutex>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "pool/selector.hpp"
#include "proxy/egress_source.hpp"
#include "strategy/shared_engine.hpp"

namespace ipm::app {

/// The proxy's EgressSource over the pool's Selector and the strategy engine: picks with the
/// configured policy, excluding what a connection already tried, and reports every dial
/// outcome to the engine at once, so a dead IP leaves rotation before nginx logs anything.
///
/// least_conn counts a connection from its pick to its close: the Pick lease taken in pick()
/// is held as "dialing" until the dial is reported, then as "open" until closed().
/// Thread-safe: the proxy calls it from every worker thread.
class PoolEgressSource final : public proxy::EgressSource {
 public:
  PoolEgressSource(pool::Selector& selector, strategy::SharedEngine& engine);
  PoolEgressSource(const PoolEgressSource&) = delete;
  PoolEgressSource& operator=(const PoolEgressSource&) = delete;

  std::optional<pool::Egress> pick(const pool::Request& request,
                                   std::span<const pool::Egress> tried) override;
  void report(const pool::DialOutcome& outcome) override;
  void abandoned(const pool::Egress& egress) override;
  void opened(const pool::Egress& egress) override;
  void closed(const pool::Egress& egress) override;

  /// Leases held (dialing + open); for tests.
  std::size_t leases() const;

 private:
  // Leases of one IP. Which lease is released does not matter: they count the same.
  struct Leases {
    std::vector<pool::Pick> dialing;
    std::vector<pool::Pick> open;
  };

  pool::Selector& selector_;
  strategy::SharedEngine& engine_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Leases> leases_;
};

}  // namespace ipm::app
