#pragma once

#include <cstdint>
#include <vector>

#include "pool/history.hpp"

namespace ipm::pool {

/// How many entries of one IP's HistoryRing have each (status, target id), kept up to date
/// as entries enter and leave the ring, so the /metrics scrape reads a few dozen counts per
/// IP instead of walking every history entry under the engine's lock.
/// Push through this class (never into the ring directly) or the counts drift.
/// The counts live in one flat open-addressing table (12 bytes a slot, at most half full,
/// empty for an IP without history): a push costs a hash and a probe or two in memory the
/// ring's owner already touches, never an allocation once the table has grown.
/// Targets are counted only when something reads them (ipmanager_history_response with a
/// `target` label): otherwise every entry counts under Interner::kEmpty, so an IP holds a
/// handful of statuses, its table stays in cache and most pushes leave the counts as they were
/// (a 200 replacing a 200) — the tally was a sixth of a parse-mode replay by (status, target).
/// Not thread-safe: owned with the ring by the strategy engine.
class HistoryTally {
 public:
  /// Pushes `e` into `ring`, counting it, and uncounts the entry it overwrites (if full).
  void push(HistoryRing& ring, const HistoryEntry& e);

  /// Whether targets are counted (default true). A change recounts what `ring` holds.
  void count_targets(bool on, const HistoryRing& ring);
  bool counts_targets() const { return by_target_; }

  /// Calls f(status, target, count) for each (status, target) held, count > 0, in no order
  /// (target Interner::kEmpty throughout when targets are not counted).
  template <class F>
  void for_each(F&& f) const {
    for (const Slot& s : slots_) {
      if (s.count != 0)
        f(s.status, s.target, s.count);
    }
  }

  /// Distinct (status, target) pairs held.
  std::size_t size() const { return used_; }

 private:
  struct Slot {
    Interner::Id target = 0;
    std::uint16_t status = 0;
    std::uint32_t count = 0;  ///< 0: the slot is free
  };

  std::size_t slot_of(std::uint16_t status, Interner::Id target) const;
  void add(std::uint16_t status, Interner::Id target);
  void remove(std::uint16_t status, Interner::Id target);
  void grow();

  Interner::Id counted_target(const HistoryEntry& e) const {
    return by_target_ ? e.target : Interner::kEmpty;
  }

  std::vector<Slot> slots_;  ///< size 0 or a power of two
  std::size_t used_ = 0;
  bool by_target_ = true;
};

}  // namespace ipm::pool
