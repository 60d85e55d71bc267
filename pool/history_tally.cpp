#include "pool/history_tally.hpp"

namespace ipm::pool {

void HistoryTally::push(HistoryRing& ring, const HistoryEntry& e) {
  const bool keeps = ring.capacity() > 0;  // a ring of capacity 0 only counts pushes
  if (keeps && ring.size() == ring.capacity()) {
    const auto evicted = counts_.find(key(ring[0]));  // the oldest, about to be overwritten
    if (evicted != counts_.end() && --evicted->second == 0)
      counts_.erase(evicted);
  }
  ring.push(e);
  if (keeps)
    ++counts_[key(e)];
}

}  // namespace ipm::pool
