#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace ipm::pool {

/// The last `capacity` values pushed, oldest first. Storage grows on demand up to the
/// capacity and is then reused, so an idle IP costs nothing and a busy one a fixed amount.
/// Not thread-safe.
template <class T>
class BoundedRing {
 public:
  explicit BoundedRing(std::size_t capacity) : capacity_(capacity) {}

  void push(const T& value) {
    ++pushed_;
    if (capacity_ == 0)
      return;
    if (items_.size() < capacity_) {
      items_.push_back(value);
      return;
    }
    items_[head_] = value;
    head_ = head_ + 1 == capacity_ ? 0 : head_ + 1;  // no division on the per-event path
  }

  std::size_t size() const { return items_.size(); }
  std::size_t capacity() const { return capacity_; }
  bool empty() const { return items_.empty(); }

  /// Values pushed since creation, including those already overwritten.
  std::uint64_t pushed() const { return pushed_; }

  /// The i-th oldest value held (0 = oldest, size()-1 = newest).
  const T& operator[](std::size_t i) const {
    const std::size_t at = head_ + i;  // < 2 x size(): one subtraction instead of a division
    return items_[at < items_.size() ? at : at - items_.size()];
  }
  const T& newest() const { return (*this)[items_.size() - 1]; }

  /// Calls f(value) oldest first.
  template <class F>
  void for_each(F&& f) const {
    for (std::size_t i = 0; i < items_.size(); ++i)
      f((*this)[i]);
  }

  /// Changes the capacity, keeping the newest values that fit.
  void set_capacity(std::size_t capacity) {
    if (capacity == capacity_)
      return;
    std::vector<T> kept;
    const std::size_t n = items_.size() < capacity ? items_.size() : capacity;
    kept.reserve(n);
    for (std::size_t i = items_.size() - n; i < items_.size(); ++i)
      kept.push_back((*this)[i]);
    items_ = std::move(kept);
    head_ = 0;
    capacity_ = capacity;
  }

 private:
  std::size_t capacity_;
  std::vector<T> items_;
  std::size_t head_ = 0;  // index of the oldest value once the ring is full
  std::uint64_t pushed_ = 0;
};

}  // namespace ipm::pool
