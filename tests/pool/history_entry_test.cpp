#include "pool/history_entry.hpp"

#include <cmath>
#include <cstdint>
#include <limits>

#include <gtest/gtest.h>

#include "pool/history_ring.hpp"

namespace {

using ipm::pool::HistoryEntry;
using ipm::pool::HistoryRing;
using ipm::pool::Interner;
using ipm::pool::PackedHistoryEntry;

HistoryEntry round_trip(const HistoryEntry& e) {
  return PackedHistoryEntry::pack(e).unpack();
}

TEST(HistoryEntryTest, an_entry_is_16_bytes_in_a_ring) {
  EXPECT_EQ(sizeof(PackedHistoryEntry), 16U);
}

TEST(HistoryEntryTest, what_the_log_gives_reads_back_unchanged) {
  struct Case {
    const char* name;
    HistoryEntry in;
  };
  constexpr std::int64_t kMs = 1'000'000;
  const Case cases[] = {
      {"a default entry", HistoryEntry{}},
      {"a $time_local second", {.time_ns = 1'795'315'694LL * 1000 * kMs}},
      {"a $msec millisecond", {.time_ns = 1'795'315'694'123LL * kMs}},
      {"the year 2100", {.time_ns = 4'102'444'800'000LL * kMs}},
      {"largest ids",
       {.key = Interner::kMaxDistinct - 1, .target = Interner::kMaxDistinct - 2, .status = 599}},
      {"statuses", {.status = 502, .upstream_status = 504}},
      {"largest status", {.status = PackedHistoryEntry::kMaxStatus, .upstream_status = 100}},
      {"no latency", {.latency_seconds = -1.0F}},
      {"latency 0", {.latency_seconds = 0.0F}},
      {"latency 0.001", {.latency_seconds = 0.001F}},
      {"latency 0.123", {.latency_seconds = 0.123F}},
      {"latency 59.999", {.latency_seconds = 59.999F}},
      {"latency 4,000.5 s", {.latency_seconds = 4000.5F}},
      {"latency 5 hours", {.latency_seconds = 18'000.0F}},
  };
  for (const auto& c : cases) {
    const HistoryEntry out = round_trip(c.in);
    EXPECT_EQ(out.time_ns, c.in.time_ns) << c.name;
    EXPECT_EQ(out.key, c.in.key) << c.name;
    EXPECT_EQ(out.target, c.in.target) << c.name;
    EXPECT_EQ(out.status, c.in.status) << c.name;
    EXPECT_EQ(out.upstream_status, c.in.upstream_status) << c.name;
    EXPECT_EQ(out.latency_seconds, c.in.latency_seconds) << c.name;
  }
}

TEST(HistoryEntryTest, what_does_not_fit_is_bounded_not_wrapped) {
  struct Case {
    const char* name;
    HistoryEntry in;
    HistoryEntry out;
  };
  const Case cases[] = {
      {"sub-millisecond time is cut to the millisecond",
       {.time_ns = 1'500'000'999},
       {.time_ns = 1'500'000'000}},
      {"before 1970 reads 1970", {.time_ns = -5'000'000'000}, {.time_ns = 0}},
      {"status past 10 bits is the largest", {.status = 4000}, {.status = 1023}},
      {"latency past 4.6 hours in whole seconds",
       {.latency_seconds = 20'000.25F},
       {.latency_seconds = 20'000.0F}},
      {"latency of days is capped, not wrapped",
       {.latency_seconds = 1e30F},
       {.latency_seconds = 16'777'214.0F}},
      {"NaN latency is absent",
       {.latency_seconds = std::numeric_limits<float>::quiet_NaN()},
       {.latency_seconds = -1.0F}},
      {"sub-millisecond latency to the nearest millisecond",
       {.latency_seconds = 0.0004F},
       {.latency_seconds = 0.0F}},
  };
  for (const auto& c : cases) {
    const HistoryEntry out = round_trip(c.in);
    EXPECT_EQ(out.time_ns, c.out.time_ns) << c.name;
    EXPECT_EQ(out.status, c.out.status) << c.name;
    EXPECT_EQ(out.latency_seconds, c.out.latency_seconds) << c.name;
  }
}

TEST(HistoryEntryTest, a_ring_hands_entries_back_oldest_first) {
  HistoryRing ring(2);
  for (std::uint16_t s : {200, 404, 502})
    ring.push(HistoryEntry{.time_ns = s * 1'000'000'000LL, .status = s});
  ASSERT_EQ(ring.size(), 2U);
  EXPECT_EQ(ring.pushed(), 3U);
  EXPECT_EQ(ring[0].status, 404);
  EXPECT_EQ(ring.newest().status, 502);
  EXPECT_EQ(ring.newest().time_ns, 502'000'000'000LL);
  int seen = 0;
  ring.for_each([&](const HistoryEntry& e) { seen += e.status; });
  EXPECT_EQ(seen, 404 + 502);
}

}  // namespace
