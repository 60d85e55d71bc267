#include "pool/history_tally.hpp"

namespace ipm::pool {
namespace {

std::size_t hash(std::uint16_t status, Interner::Id target) {
  // A multiplicative mix of the 48-bit key; its top bits are the slot.
  const std::uint64_t key = std::uint64_t{status} << 32 | target;
  return static_cast<std::size_t>((key * 0x9E3779B97F4A7C15ULL) >> 32);
}

}  // namespace

void HistoryTally::push(HistoryRing& ring, const HistoryEntry& e) {
  const bool keeps = ring.capacity() > 0;  // a ring of capacity 0 only counts pushes
  if (keeps && ring.size() == ring.capacity()) {
    const HistoryEntry evicted = ring.oldest();  // about to be overwritten
    if (evicted.status == e.status && counted_target(evicted) == counted_target(e)) {
      ring.push(e);  // the same pair leaves and enters: the counts stay
      return;
    }
    remove(evicted.status, counted_target(evicted));
  }
  ring.push(e);
  if (keeps)
    add(e.status, counted_target(e));
}

void HistoryTally::count_targets(bool on, const HistoryRing& ring) {
  if (on == by_target_)
    return;
  by_target_ = on;
  slots_.clear();
  used_ = 0;
  ring.for_each([&](const HistoryEntry& e) { add(e.status, counted_target(e)); });
}

// The slot holding the pair, or the free slot where it would go. The table is never full.
std::size_t HistoryTally::slot_of(std::uint16_t status, Interner::Id target) const {
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t i = hash(status, target) & mask;; i = (i + 1) & mask) {
    const Slot& s = slots_[i];
    if (s.count == 0 || (s.status == status && s.target == target))
      return i;
  }
}

void HistoryTally::add(std::uint16_t status, Interner::Id target) {
  if (2 * (used_ + 1) > slots_.size())
    grow();
  Slot& s = slots_[slot_of(status, target)];
  if (s.count == 0) {
    s.status = status;
    s.target = target;
    ++used_;
  }
  ++s.count;
}

void HistoryTally::remove(std::uint16_t status, Interner::Id target) {
  if (slots_.empty())
    return;
  const std::size_t mask = slots_.size() - 1;
  std::size_t hole = slot_of(status, target);
  if (slots_[hole].count == 0 || --slots_[hole].count != 0)
    return;
  --used_;
  // Backward-shift deletion: move later members of the probe run into the hole, so that
  // lookups never need tombstones.
  for (std::size_t i = (hole + 1) & mask; slots_[i].count != 0; i = (i + 1) & mask) {
    const std::size_t home = hash(slots_[i].status, slots_[i].target) & mask;
    // Moves unless its home lies cyclically in (hole, i].
    if (((i - home) & mask) >= ((i - hole) & mask)) {
      slots_[hole] = slots_[i];
      slots_[i].count = 0;
      hole = i;
    }
  }
}

void HistoryTally::grow() {
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(old.empty() ? 8 : 2 * old.size(), Slot{});
  for (const Slot& s : old) {
    if (s.count != 0)
      slots_[slot_of(s.status, s.target)] = s;
  }
}

}  // namespace ipm::pool
