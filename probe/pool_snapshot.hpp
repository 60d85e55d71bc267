#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "pool/ip_state.hpp"
#include "strategy/engine.hpp"

namespace ipm::probe {

/// Responses of one IP's history with one status and one target label.
struct HistoryCell {
  std::uint16_t status = 0;  ///< as logged; statuses above 999 share 999
  std::uint32_t target = 0;  ///< index into PoolSnapshot::target_labels
  std::uint32_t count = 0;
};

/// The numbers of one IP that its metrics show.
struct IpNumbers {
  std::string ip;
  std::string port;  ///< decimal, ready to be a label value
  pool::IpState state = pool::IpState::available;
  std::uint32_t consecutive_failures = 0;
  std::uint64_t successes = 0;
  std::uint64_t failures = 0;
  std::uint64_t neutrals = 0;
  std::uint64_t dial_failures = 0;
  std::uint64_t ejections = 0;
  double backoff_seconds = 0;
  std::size_t cells_begin = 0;  ///< [cells_begin, cells_end) of PoolSnapshot::cells,
  std::size_t cells_end = 0;    ///< by status then target label
};

/// A copy of what the pool's metrics show, taken under the engine's lock so that the
/// text is formatted after the lock is released. Plain data; no references into the engine.
struct PoolSnapshot {
  /// "other", "-" (no target), then the `history_target_label_cap` busiest targets over
  /// every IP's history (made valid UTF-8, deduplicated).
  std::vector<std::string> target_labels;
  std::vector<IpNumbers> ips;  ///< in the engine's order
  std::vector<HistoryCell> cells;
  std::array<std::uint32_t, pool::kIpStateCount> ips_by_state{};
  bool all_unavailable = false;
  strategy::PoolCounters counters;
};

/// Takes the snapshot; call under SharedEngine::read.
PoolSnapshot take_pool_snapshot(const strategy::Engine& engine);

}  // namespace ipm::probe
