#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "pool/egress.hpp"
#include "proxy/egress_source.hpp"

namespace ipm::proxy {

/// An EgressSource over a fixed list of egresses, taken in turn, that keeps per-egress tallies
/// of what the proxy reported. It has no health logic: a failed egress stays in rotation.
/// Used by the benchmark server, by tests, and as a debugging aid. Thread-safe.
class RoundRobinSource final : public EgressSource {
 public:
  struct Tally {
    std::uint64_t dials_ok = 0;
    std::uint64_t dials_failed = 0;
    std::uint64_t opened = 0;
    std::int64_t active = 0;
    std::uint64_t picked = 0;
    std::uint64_t abandoned = 0;
  };

  explicit RoundRobinSource(std::vector<pool::Egress> egresses);
  RoundRobinSource(const RoundRobinSource&) = delete;
  RoundRobinSource& operator=(const RoundRobinSource&) = delete;

  std::optional<pool::Egress> pick(const pool::Request& request,
                                   std::span<const pool::Egress> tried) override;
  void report(const pool::DialOutcome& outcome) override;
  void abandoned(const pool::Egress& egress) override;
  void opened(const pool::Egress& egress) override;
  void closed(const pool::Egress& egress) override;

  /// Tallies for the egress with this ip and port; all zero for an unknown one.
  Tally tally(std::string_view ip, std::uint16_t port) const;

 private:
  struct Counters {
    std::atomic<std::uint64_t> dials_ok{0};
    std::atomic<std::uint64_t> dials_failed{0};
    std::atomic<std::uint64_t> opened{0};
    std::atomic<std::int64_t> active{0};
    std::atomic<std::uint64_t> picked{0};
    std::atomic<std::uint64_t> abandoned{0};
  };

  Counters* find(std::string_view ip, std::uint16_t port) const;

  const std::vector<pool::Egress> egresses_;
  const std::unique_ptr<Counters[]> counters_;
  std::atomic<std::uint64_t> next_{0};
};

}  // namespace ipm::proxy
