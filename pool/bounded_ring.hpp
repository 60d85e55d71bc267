#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace ipm::pool {

/// The last `capacity` values pushed, oldest first. Storage grows on demand up to the
/// capacity and is then reused, so an idle IP costs nothing and a busy one a fixed amount.
/// Past its first kBlock values it grows by blocks of kBlock that never move: a vector
/// doubling to its capacity left the heap a hole of half the final size per ring (10,000
/// rings growing side by side in a replay: ~12 KB of free, unreturnable heap each, a third
/// of the process's RSS). The first block grows like a vector, so a ring holding a few
/// values (most cooldown logs) costs a few values, not a block.
/// Not thread-safe.
template <class T>
class BoundedRing {
 public:
  static constexpr std::size_t kBlock = 64;

  explicit BoundedRing(std::size_t capacity) : capacity_(capacity) {}

  void push(const T& value) {
    ++pushed_;
    if (capacity_ == 0)
      return;
    if (size_ < capacity_) {
      append(value);
      return;
    }
    slot(head_) = value;
    head_ = head_ + 1 == capacity_ ? 0 : head_ + 1;  // no division on the per-event path
  }

  std::size_t size() const { return size_; }
  std::size_t capacity() const { return capacity_; }
  bool empty() const { return size_ == 0; }
  /// Values the storage has room for: past the first block, size() rounded up to a block,
  /// never past capacity().
  std::size_t allocated() const {
    return blocks_.empty() ? 0 : (blocks_.size() - 1) * kBlock + blocks_.back().capacity();
  }

  /// Values pushed since creation, including those already overwritten.
  std::uint64_t pushed() const { return pushed_; }

  /// The i-th oldest value held (0 = oldest, size()-1 = newest).
  const T& operator[](std::size_t i) const {
    const std::size_t at = head_ + i;  // < 2 x size(): one subtraction instead of a division
    return slot(at < size_ ? at : at - size_);
  }
  const T& newest() const { return (*this)[size_ - 1]; }

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
    const std::size_t n = size_ < capacity ? size_ : capacity;
    for (std::size_t i = size_ - n; i < size_; ++i)
      kept.append((*this)[i]);
    kept.pushed_ = pushed_;
    *this = std::move(kept);
  }

 private:
  T& slot(std::size_t k) { return blocks_[k / kBlock][k % kBlock]; }
  const T& slot(std::size_t k) const { return blocks_[k / kBlock][k % kBlock]; }

  // Adds a value at position size_ (the ring is not full). A block after the first is
  // allocated whole, and only as large as the capacity needs.
  void append(const T& value) {
    if (size_ % kBlock == 0) {
      blocks_.emplace_back();
      if (size_ != 0) {
        const std::size_t left = capacity_ - size_;
        blocks_.back().reserve(left < kBlock ? left : kBlock);
      }
    }
    blocks_.back().push_back(value);
    ++size_;
  }

  std::size_t capacity_;
  std::vector<std::vector<T>> blocks_;
  std::size_t size_ = 0;
  std::size_t head_ = 0;  // index of the oldest value once the ring is full
  std::uint64_t pushed_ = 0;
};

}  // namespace ipm::pool
