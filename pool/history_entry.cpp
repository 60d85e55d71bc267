#include "pool/history_entry.hpp"

#include <algorithm>
#include <cmath>

namespace ipm::pool {
namespace {

constexpr int kTimeBits = 42;
constexpr int kIdBits = 20;
constexpr int kStatusBits = 10;
constexpr int kLatencyBits = 24;
constexpr std::uint64_t mask(int bits) {
  return (std::uint64_t{1} << bits) - 1;
}
constexpr std::uint64_t kLatencyAbsent = mask(kLatencyBits);
static_assert(kTimeBits + kIdBits + 1 <= 64);
static_assert(kIdBits + 2 * kStatusBits + kLatencyBits == 64);
static_assert(Interner::kMaxDistinct <= (std::size_t{1} << kIdBits));
static_assert(sizeof(PackedHistoryEntry) == 16);

}  // namespace

PackedHistoryEntry PackedHistoryEntry::pack(const HistoryEntry& e) {
  const std::int64_t ms = std::clamp<std::int64_t>(e.time_ns / 1'000'000, 0,
                                                   static_cast<std::int64_t>(mask(kTimeBits)));
  std::uint64_t latency = kLatencyAbsent;
  bool in_seconds = false;
  // NaN fails the comparison: absent, like a negative value.
  if (e.latency_seconds >= 0.0F) {
    const double ms_value = std::round(static_cast<double>(e.latency_seconds) * 1000.0);
    if (ms_value < static_cast<double>(kLatencyAbsent)) {
      latency = static_cast<std::uint64_t>(ms_value);
    } else {
      in_seconds = true;
      latency =
          static_cast<std::uint64_t>(std::min(std::round(static_cast<double>(e.latency_seconds)),
                                              static_cast<double>(kLatencyAbsent - 1)));
    }
  }
  PackedHistoryEntry p;
  p.a_ = static_cast<std::uint64_t>(ms) | (std::uint64_t{e.key} & mask(kIdBits)) << kTimeBits |
         std::uint64_t{in_seconds} << (kTimeBits + kIdBits);
  const auto status = [](std::uint16_t s) { return std::uint64_t{std::min(s, kMaxStatus)}; };
  p.b_ = (std::uint64_t{e.target} & mask(kIdBits)) | status(e.status) << kIdBits |
         status(e.upstream_status) << (kIdBits + kStatusBits) |
         latency << (kIdBits + 2 * kStatusBits);
  return p;
}

HistoryEntry PackedHistoryEntry::unpack() const {
  HistoryEntry e;
  e.time_ns = static_cast<std::int64_t>(a_ & mask(kTimeBits)) * 1'000'000;
  e.key = static_cast<Interner::Id>(a_ >> kTimeBits & mask(kIdBits));
  e.target = static_cast<Interner::Id>(b_ & mask(kIdBits));
  e.status = static_cast<std::uint16_t>(b_ >> kIdBits & mask(kStatusBits));
  e.upstream_status = static_cast<std::uint16_t>(b_ >> (kIdBits + kStatusBits) & mask(kStatusBits));
  const std::uint64_t latency = b_ >> (kIdBits + 2 * kStatusBits);
  if (latency != kLatencyAbsent) {
    const bool in_seconds = (a_ >> (kTimeBits + kIdBits) & 1U) != 0;
    e.latency_seconds =
        in_seconds ? static_cast<float>(latency) : static_cast<float>(latency) / 1000.0F;
  }
  return e;
}

}  // namespace ipm::pool
