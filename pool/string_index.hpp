#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

namespace ipm::pool {

/// A hash index from strings to the dense ids (0, 1, 2, ...) of a table its owner keeps:
/// the index stores no strings, only 8 bytes a slot (32 bits of the hash and the id), and
/// compares a candidate through the owner's `key_of(id)`. Open addressing with linear
/// probing, at most half full: a lookup is one hash, one or two probes in a contiguous
/// array and one string comparison, and never allocates. No erase: owners rebuild it.
/// Not thread-safe.
class StringIndex {
 public:
  using Id = std::uint32_t;
  static constexpr Id kNone = UINT32_MAX;

  static std::uint32_t hash(std::string_view s) {
    const std::size_t h = std::hash<std::string_view>{}(s);
    return static_cast<std::uint32_t>(h ^ (h >> 32));
  }

  /// The id whose key_of(id) equals `s`, or kNone. `h` is hash(s).
  template <class KeyOf>
  Id find(std::string_view s, std::uint32_t h, const KeyOf& key_of) const {
    if (slots_.empty())
      return kNone;
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t i = h & mask;; i = (i + 1) & mask) {
      const Slot& slot = slots_[i];
      if (slot.id == kNone)
        return kNone;
      if (slot.hash == h && std::string_view(key_of(slot.id)) == s)
        return slot.id;
    }
  }
  template <class KeyOf>
  Id find(std::string_view s, const KeyOf& key_of) const {
    return find(s, hash(s), key_of);
  }

  /// Asks for the slot where a lookup of hash `h` starts (for a caller that will look it up
  /// after other work).
  void prefetch(std::uint32_t h) const {
    if (!slots_.empty())
      __builtin_prefetch(&slots_[h & (slots_.size() - 1)]);
  }
  /// The id of the first slot of hash `h` on the probe run, without comparing strings: the
  /// likely answer of find(), kNone when there is none. For prefetching only.
  Id likely(std::uint32_t h) const {
    if (slots_.empty())
      return kNone;
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t i = h & mask;; i = (i + 1) & mask) {
      if (slots_[i].id == kNone || slots_[i].hash == h)
        return slots_[i].id;
    }
  }

  /// Adds `id` for a string of hash `h` that is not in the index.
  void insert(std::uint32_t h, Id id);

  void clear() {
    slots_.clear();
    size_ = 0;
  }
  std::size_t size() const { return size_; }

 private:
  struct Slot {
    std::uint32_t hash = 0;
    Id id = kNone;  ///< kNone: free
  };

  void place(const Slot& s);

  std::vector<Slot> slots_;  ///< size 0 or a power of two
  std::size_t size_ = 0;
};

}  // namespace ipm::pool
