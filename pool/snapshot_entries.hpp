#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <vector>

#include "pool/egress.hpp"
#include "pool/ip_state.hpp"

namespace ipm::pool {

/// Active connections of one egress, shared by every snapshot that lists the IP so that a
/// connection opened against one snapshot is still counted after the next is published.
struct ActiveCount {
  std::atomic<std::uint32_t> value{0};
};

/// What a Pick holds on to: the egress and its connection count, shared per IP so that a
/// pick touches only its own IP's reference counts, never one shared by every thread.
struct PickTarget {
  Egress egress;
  std::shared_ptr<ActiveCount> active;
};

/// What selection needs to know about one egress IP.
struct SnapshotEntry {
  Egress egress;
  IpState state = IpState::available;
  /// May get traffic now. True for available and probation IPs, and for the least-bad
  /// cooling IPs while the whole pool is unavailable under `all_unavailable: least_bad`.
  bool selectable = false;
  /// Traffic share relative to a healthy IP of the same weight: 1, probation_share, or 0.
  double share = 0.0;
  /// The strategy engine fills these (one PickTarget per IP, made again only when its egress
  /// changes); Selector::publish fills those a hand-built snapshot leaves null. Never null in
  /// a published snapshot.
  std::shared_ptr<ActiveCount> active;
  std::shared_ptr<const PickTarget> target;
};

/// A snapshot's IPs, in upstream-config order, held in immutable chunks of kChunk entries
/// that consecutive snapshots share: the engine builds again only the chunks holding an IP
/// that changed, so a state change copies one chunk (and kChunk-th of the pointers), not
/// the pool. Reads are a vector's (size, [], iteration) with one more indirection.
/// A chunk is never written once shared, so readers on other threads need no lock.
class SnapshotEntries {
 public:
  static constexpr std::size_t kChunk = 64;
  using Chunk = std::vector<SnapshotEntry>;

  class const_iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = SnapshotEntry;
    using difference_type = std::ptrdiff_t;
    using pointer = const SnapshotEntry*;
    using reference = const SnapshotEntry&;

    const_iterator() = default;
    const_iterator(const SnapshotEntries* of, std::size_t at) : of_(of), at_(at) {}
    reference operator*() const { return (*of_)[at_]; }
    pointer operator->() const { return &(*of_)[at_]; }
    const_iterator& operator++() {
      ++at_;
      return *this;
    }
    const_iterator operator++(int) {
      const_iterator was = *this;
      ++at_;
      return was;
    }
    friend bool operator==(const const_iterator& a, const const_iterator& b) {
      return a.at_ == b.at_;
    }

   private:
    const SnapshotEntries* of_ = nullptr;
    std::size_t at_ = 0;
  };

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  const SnapshotEntry& operator[](std::size_t i) const {
    return (*chunks_[i / kChunk])[i % kChunk];
  }
  const_iterator begin() const { return {this, 0}; }
  const_iterator end() const { return {this, size_}; }

  /// Appends one entry. Copies the last chunk when it has room (it may be shared): meant for
  /// snapshots built by hand, entry by entry; the engine appends whole chunks.
  void push_back(SnapshotEntry e);
  /// Appends a chunk: kChunk entries, or fewer as the last one.
  void push_chunk(std::shared_ptr<const Chunk> chunk);

  std::size_t chunk_count() const { return chunks_.size(); }
  const std::shared_ptr<const Chunk>& chunk(std::size_t c) const { return chunks_[c]; }

 private:
  std::vector<std::shared_ptr<const Chunk>> chunks_;
  std::size_t size_ = 0;
};

}  // namespace ipm::pool
