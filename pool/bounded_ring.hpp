#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

namespace ipm::pool {

/// The last `capacity` values pushed, oldest first. Storage grows on demand up to the
/// capacity and is then reused, so an idle IP costs nothing and a busy one a fixed amount.
/// Past its first kBlock values it grows by blocks of kBlock that never move: a vector
/// doubling to its capacity left the heap a hole of half the final size per ring (10,000
/// rings growing side by side in a replay: ~12 KB of free, unreturnable heap each, a third
/// of the process's RSS). The first block grows like a vector, so a ring holding a few
/// values (most cooldown logs) costs a few values, not a block.
/// The ring keeps a pointer to the block its next push writes (and, once full, whose value
/// that push replaces), so a push touches the ring and that one slot, not the block list
/// first: with 10,000 rings, each event's ring is a cache miss of its own, and the list
/// was a second one before the slot.
/// Not thread-safe.
template <class T>
class BoundedRing {
 public:
  static constexpr std::size_t kBlock = 64;

  explicit BoundedRing(std::size_t capacity)
      : capacity_(static_cast<std::uint32_t>(std::min<std::size_t>(capacity, UINT32_MAX))) {}
  BoundedRing(const BoundedRing& other) : capacity_(other.capacity_) {
    other.for_each([this](const T& v) { append(v); });
    pushed_ = other.pushed_;
  }
  BoundedRing(BoundedRing&& other) noexcept
      : blocks_(std::move(other.blocks_)),
        block_(std::exchange(other.block_, nullptr)),
        pushed_(std::exchange(other.pushed_, 0)),
        capacity_(other.capacity_),
        size_(std::exchange(other.size_, 0)),
        head_(std::exchange(other.head_, 0)),
        first_(std::exchange(other.first_, 0)) {
    other.blocks_.clear();
  }
  BoundedRing& operator=(BoundedRing other) noexcept {
    swap(other);
    return *this;
  }
  ~BoundedRing() = default;

  void push(const T& value) {
    ++pushed_;
    if (size_ < capacity_) {
      append(value);
      return;
    }
    if (capacity_ == 0)
      return;
    block_[head_ % kBlock] = value;
    // No division on the per-event path: kBlock is a power of two.
    if (++head_ == capacity_)
      head_ = 0;
    if (head_ % kBlock == 0)
      block_ = blocks_[head_ / kBlock].get();
  }

  std::size_t size() const { return size_; }
  std::size_t capacity() const { return capacity_; }
  bool empty() const { return size_ == 0; }
  /// Values the storage has room for: past the first block, size() rounded up to a block,
  /// never past capacity().
  std::size_t allocated() const {
    if (blocks_.size() <= 1)
      return first_;
    return std::min<std::size_t>(blocks_.size() * kBlock, capacity_);
  }

  /// Values pushed since creation, including those already overwritten.
  std::uint64_t pushed() const { return pushed_; }

  /// The i-th oldest value held (0 = oldest, size()-1 = newest).
  const T& operator[](std::size_t i) const {
    const std::size_t at = head_ + i;  // < 2 x size(): one subtraction instead of a division
    return slot(at < size_ ? at : at - size_);
  }
  const T& newest() const { return (*this)[size_ - 1]; }
  /// (*this)[0], read through the write block once the ring is full (the value the next
  /// push replaces). Not empty.
  const T& oldest() const { return size_ == capacity_ ? block_[head_ % kBlock] : blocks_[0][0]; }

  /// Calls f(value) oldest first.
  template <class F>
  void for_each(F&& f) const {
    for (std::size_t i = 0; i < size_; ++i)
      f((*this)[i]);
  }

  /// Changes the capacity, keeping the newest values that fit.
  void set_capacity(std::size_t capacity) {
    if (capacity == capacity_)
      return;
    BoundedRing kept(capacity);
    const std::size_t n = std::min<std::size_t>(size_, kept.capacity_);
    for (std::size_t i = size_ - n; i < size_; ++i)
      kept.append((*this)[i]);
    kept.pushed_ = pushed_;
    swap(kept);
  }

 private:
  const T& slot(std::size_t k) const { return blocks_[k / kBlock][k % kBlock]; }

  void swap(BoundedRing& other) noexcept {
    std::swap(blocks_, other.blocks_);
    std::swap(block_, other.block_);
    std::swap(pushed_, other.pushed_);
    std::swap(capacity_, other.capacity_);
    std::swap(size_, other.size_);
    std::swap(head_, other.head_);
    std::swap(first_, other.first_);
  }

  // Adds a value at position size_ (the ring is not full). A block after the first is
  // allocated whole, and only as large as the capacity needs.
  void append(const T& value) {
    if (size_ < kBlock) {
      if (size_ == first_)
        grow_first();
    } else if (size_ % kBlock == 0) {
      blocks_.push_back(std::make_unique<T[]>(std::min<std::size_t>(kBlock, capacity_ - size_)));
      block_ = blocks_.back().get();
    }
    block_[size_ % kBlock] = value;
    if (++size_ == capacity_)
      block_ = blocks_[0].get();  // full: the next push replaces the oldest, at head_ 0
  }

  // The first block doubles (1, 2, 4, ...) up to a block or the capacity.
  void grow_first() {
    const std::size_t n =
        first_ == 0 ? 1 : std::min<std::size_t>({2 * std::size_t{first_}, kBlock, capacity_});
    auto grown = std::make_unique<T[]>(n);
    std::copy_n(block_, size_, grown.get());
    if (blocks_.empty())
      blocks_.push_back(std::move(grown));
    else
      blocks_[0] = std::move(grown);
    block_ = blocks_[0].get();
    first_ = static_cast<std::uint32_t>(n);
  }

  std::vector<std::unique_ptr<T[]>> blocks_;
  T* block_ = nullptr;  // filling: the block of slot size_; full: the block of slot head_
  std::uint64_t pushed_ = 0;
  std::uint32_t capacity_;
  std::uint32_t size_ = 0;
  std::uint32_t head_ = 0;   // index of the oldest value once the ring is full
  std::uint32_t first_ = 0;  // values the first block has room for
};

}  // namespace ipm::pool
