#pragma once

#include <cstddef>
#include <cstdint>

#include "pool/bounded_ring.hpp"
#include "pool/history_entry.hpp"

namespace ipm::pool {

/// One IP's last `capacity` history entries, oldest first, held packed (16 bytes each, see
/// PackedHistoryEntry) and handed out unpacked, by value. Not thread-safe.
class HistoryRing {
 public:
  explicit HistoryRing(std::size_t capacity) : ring_(capacity) {}

  void push(const HistoryEntry& e) { ring_.push(PackedHistoryEntry::pack(e)); }

  std::size_t size() const { return ring_.size(); }
  std::size_t capacity() const { return ring_.capacity(); }
  bool empty() const { return ring_.empty(); }
  /// Entries pushed since creation, including those already overwritten.
  std::uint64_t pushed() const { return ring_.pushed(); }

  /// The i-th oldest entry held (0 = oldest, size()-1 = newest).
  HistoryEntry operator[](std::size_t i) const { return ring_[i].unpack(); }
  HistoryEntry newest() const { return ring_.newest().unpack(); }
  /// (*this)[0], without the block list once full (the entry the next push replaces).
  HistoryEntry oldest() const { return ring_.oldest().unpack(); }

  /// Calls f(entry) oldest first.
  template <class F>
  void for_each(F&& f) const {
    ring_.for_each([&f](const PackedHistoryEntry& p) { f(p.unpack()); });
  }

  /// Changes the capacity, keeping the newest entries that fit.
  void set_capacity(std::size_t capacity) { ring_.set_capacity(capacity); }

 private:
  BoundedRing<PackedHistoryEntry> ring_;
};

}  // namespace ipm::pool
