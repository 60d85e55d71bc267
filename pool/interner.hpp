#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>

#include "pool/string_index.hpp"

namespace ipm::pool {

/// Maps strings (egress keys, target hosts) to small ids so that history entries stay
/// compact and a key seen a million times is stored once.
///
/// Growth is bounded: at most `max_distinct` strings are kept (each truncated to
/// `kMaxLength` bytes); once full, unseen strings map to `kOverflow` ("(other)"). Interned
/// strings are never freed, because ids live on in history rings; the cap is what keeps a
/// hostile or high-cardinality key space from growing memory without limit.
/// A lookup of a known string hashes it once and probes a flat index (StringIndex): no
/// allocation, no node to chase. Not thread-safe: owned by the strategy engine and read
/// under its lock.
class Interner {
 public:
  using Id = std::uint32_t;
  static constexpr Id kEmpty = 0;     ///< the empty string ("-" in the log)
  static constexpr Id kOverflow = 1;  ///< any string seen after the cap was reached
  static constexpr std::size_t kMaxLength = 256;

  explicit Interner(std::size_t max_distinct = 100'000);
  Interner(const Interner&) = delete;
  Interner& operator=(const Interner&) = delete;

  /// The id of `s`, adding it when new and there is room.
  Id intern(std::string_view s);

  /// The string of `id`; "" for unknown ids.
  std::string_view lookup(Id id) const;

  /// Distinct strings held, including the two reserved ones.
  std::size_t size() const { return strings_.size(); }

  /// Strings that were mapped to kOverflow because the interner was full.
  std::uint64_t overflowed() const { return overflowed_; }

 private:
  std::size_t max_distinct_;
  std::deque<std::string> strings_;  // deque: element addresses are stable, views stay valid
  StringIndex ids_;                  // string -> its position in strings_
  std::uint64_t overflowed_ = 0;
};

}  // namespace ipm::pool
