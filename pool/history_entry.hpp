#pragma once

#include <chrono>
#include <cstdint>

#include "pool/interner.hpp"
#include "pool/time.hpp"

namespace ipm::pool {

/// One access-log line of an IP, as readers see it. Rings hold it packed
/// (PackedHistoryEntry, 16 bytes); this is what they hand out.
/// Keys and targets are ids of the engine's interners.
struct HistoryEntry {
  std::int64_t time_ns = 0;  ///< event time, nanoseconds since the Unix epoch
  Interner::Id key = Interner::kEmpty;
  Interner::Id target = Interner::kEmpty;
  std::uint16_t status = 0;
  std::uint16_t upstream_status = 0;  ///< 0 when absent
  float latency_seconds = -1.0F;      ///< negative when absent

  TimePoint time() const {
    return TimePoint(
        std::chrono::duration_cast<Clock::duration>(std::chrono::nanoseconds(time_ns)));
  }
};

/// A HistoryEntry in 16 bytes (10,000 IPs x 1,000 entries: 160 MB, where 24 bytes made 240).
/// What it keeps, and what it gives up, against the 24-byte entry:
///   - time in whole milliseconds since the epoch, 42 bits (to the year 2109): nginx writes
///     no finer time ($msec is milliseconds, $time_local seconds); times before 1970 read 1970;
///   - status and upstream status in 10 bits each (the scanner reads 100-599; kMaxStatus);
///   - key and target ids in 20 bits each (Interner::kMaxDistinct keeps every id below);
///   - latency in milliseconds (24 bits: exact to 4.6 hours, what $request_time prints, so a
///     parsed "0.123" reads back as the same float), whole seconds above that, or absent.
class PackedHistoryEntry {
 public:
  static constexpr std::uint16_t kMaxStatus = (1U << 10) - 1;

  static PackedHistoryEntry pack(const HistoryEntry& e);
  HistoryEntry unpack() const;

 private:
  std::uint64_t a_ = 0;  // time_ms:42 | key:20 | latency in seconds:1
  std::uint64_t b_ = 0;  // target:20 | status:10 | upstream_status:10 | latency:24
};

}  // namespace ipm::pool
