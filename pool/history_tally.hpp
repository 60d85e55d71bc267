#pragma once

#include <cstdint>
#include <unordered_map>

#include "pool/history.hpp"

namespace ipm::pool {

/// How many entries of one IP's HistoryRing have each (status, target id), kept up to date
/// as entries enter and leave the ring, so the /metrics scrape reads a few dozen counts per
/// IP instead of walking every history entry under the engine's lock.
/// Push through this class (never into the ring directly) or the counts drift.
/// Not thread-safe: owned with the ring by the strategy engine.
class HistoryTally {
 public:
  /// Pushes `e` into `ring`, counting it, and uncounts the entry it overwrites (if full).
  void push(HistoryRing& ring, const HistoryEntry& e);

  /// Calls f(status, target, count) for each (status, target) held, count > 0, in no order.
  template <class F>
  void for_each(F&& f) const {
    for (const auto& [key, count] : counts_)
      f(static_cast<std::uint16_t>(key >> 32), static_cast<Interner::Id>(key), count);
  }

  /// Distinct (status, target) pairs held.
  std::size_t size() const { return counts_.size(); }

 private:
  static std::uint64_t key(const HistoryEntry& e) {
    return std::uint64_t{e.status} << 32 | e.target;
  }

  std::unordered_map<std::uint64_t, std::uint32_t> counts_;
};

}  // namespace ipm::pool
