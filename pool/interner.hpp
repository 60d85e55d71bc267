#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "pool/string_index.hpp"

namespace ipm::pool {

/// Maps strings (egress keys, target hosts, sites) to small ids so that history entries stay
/// compact and a key seen a million times is stored once.
///
/// Growth is bounded: at most `max_distinct` strings are held (each truncated to `kMaxLength`
/// bytes); when full, unseen strings map to `kOverflow` ("(other)"). The owner knows which ids
/// are still referenced (history entries, per-site states) and hands them to reclaim(), which
/// frees the others for reuse: a long-running process keeps interning new targets instead of
/// folding every one into "(other)" once `max_distinct` were ever seen. reclaim_due() says
/// when a full interner is worth sweeping (amortized: a sweep at most every max_distinct / 16
/// strings turned away).
/// A lookup of a known string hashes it once and probes a flat index (StringIndex): no
/// allocation, no node to chase; reclaim() rebuilds the index from the strings it keeps.
/// Not thread-safe: owned by the strategy engine and read under its lock.
class Interner {
 public:
  using Id = std::uint32_t;
  static constexpr Id kEmpty = 0;     ///< the empty string ("-" in the log)
  static constexpr Id kOverflow = 1;  ///< any string seen while the interner was full
  static constexpr std::size_t kMaxLength = 256;
  /// The most distinct strings an interner holds, whatever its constructor is given: history
  /// entries keep ids in 20 bits (PackedHistoryEntry).
  static constexpr std::size_t kMaxDistinct = std::size_t{1} << 20;

  explicit Interner(std::size_t max_distinct = 100'000);
  Interner(const Interner&) = delete;
  Interner& operator=(const Interner&) = delete;

  /// The id of `s`, adding it when new and there is room (kOverflow when there is none).
  Id intern(std::string_view s);
  /// The id of `s` if it is held, without adding it; kOverflow when it is not.
  Id find(std::string_view s) const;

  /// The string of `id`; "" for unknown or freed ids.
  std::string_view lookup(Id id) const;

  /// Distinct strings held, including the two reserved ones.
  std::size_t size() const { return strings_.size() - free_.size(); }
  /// Ids handed out so far (held or freed): a bound for tables indexed by id.
  std::size_t id_bound() const { return strings_.size(); }

  /// Strings that were mapped to kOverflow because the interner was full.
  std::uint64_t overflowed() const { return overflowed_; }

  /// Full, and enough strings turned away since the last reclaim to pay for a sweep.
  bool reclaim_due() const;
  /// Frees every id whose `live[id]` is false (the reserved ids are always kept; ids past the
  /// end of `live` are kept). Returns how many were freed. Freed ids are reused by intern().
  std::size_t reclaim(const std::vector<bool>& live);
  /// Ids freed by reclaim() since start.
  std::uint64_t reclaimed() const { return reclaimed_; }

 private:
  std::size_t max_distinct_;
  std::deque<std::string> strings_;  // deque: element addresses are stable, views stay valid
  StringIndex ids_;                  // string -> its position in strings_
  std::vector<Id> free_;             // freed ids, reused first
  std::uint64_t overflowed_ = 0;
  std::uint64_t overflowed_at_reclaim_ = 0;
  bool reclaimed_once_ = false;
  std::uint64_t reclaimed_ = 0;
};

}  // namespace ipm::pool
