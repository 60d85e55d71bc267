#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "pool/ip_state.hpp"
#include "strategy/engine.hpp"

namespace ipm::probe {

/// Responses of one IP's history with one status and one target label (each 0 when the
/// metrics_history_labels leave it out).
struct HistoryCell {
  std::uint16_t status = 0;  ///< as logged; statuses above 999 share 999
  std::uint32_t target = 0;  ///< index into PoolSnapshot::target_labels
  std::uint32_t count = 0;
};

/// How failing an IP's recent traffic is: the share of failures among the successes and
/// failures its history holds, judged by $status. Buckets of ipmanager_pool_ips_by_failure_ratio.
enum class FailureRatio : std::uint8_t { none, zero, up_to_10, up_to_50, below_100, all };
inline constexpr std::size_t kFailureRatios = 6;
std::string_view to_string(FailureRatio r);
FailureRatio failure_ratio(std::uint32_t failures, std::uint32_t judged);

/// Quantiles of ipmanager_pool_ip_history_entries and their `at` label values (not
/// `quantile`: Prometheus keeps that label for summaries).
struct Quantile {
  std::string_view label;
  double value;
};
inline constexpr std::array<Quantile, 3> kHistoryQuantiles{
    {{"p50", 0.5}, {"p95", 0.95}, {"max", 1.0}}};

/// The numbers of one IP that its metrics show.
struct IpNumbers {
  std::string ip;
  std::string port;  ///< decimal, ready to be a label value
  pool::IpState state = pool::IpState::available;
  std::uint32_t consecutive_failures = 0;
  std::uint64_t successes = 0;
  std::uint64_t failures = 0;
  std::uint64_t neutrals = 0;
  std::uint64_t dial_failures = 0;
  std::uint64_t dials = 0;
  std::uint64_t ejections = 0;
  double backoff_seconds = 0;
  FailureRatio failure_ratio = FailureRatio::none;
  std::size_t cells_begin = 0;  ///< [cells_begin, cells_end) of PoolSnapshot::cells,
  std::size_t cells_end = 0;    ///< by status then target label

  bool available() const { return state == pool::IpState::available; }
};

/// A copy of what the pool's metrics show, taken under the engine's lock so that the
/// text is formatted after the lock is released. Plain data; no references into the engine.
struct PoolSnapshot {
  /// The metrics keys in force (metrics_history_labels, metrics_per_ip, metrics_max_series).
  config::HistoryLabels labels;
  config::MetricsPerIp per_ip = config::MetricsPerIp::unavailable;
  std::uint32_t max_series = 0;
  /// With the target label: "other", "-" (no target), then the `history_target_label_cap`
  /// busiest targets over every IP's history (made valid UTF-8, deduplicated). Else empty.
  std::vector<std::string> target_labels;
  std::vector<IpNumbers> ips;  ///< in the engine's order
  std::vector<HistoryCell> cells;
  std::array<std::uint32_t, pool::kIpStateCount> ips_by_state{};
  std::array<std::uint32_t, kFailureRatios> ips_by_failure_ratio{};
  /// History entries held per IP, at each of kHistoryQuantiles (0 for an empty pool).
  std::array<std::uint32_t, kHistoryQuantiles.size()> history_entries{};
  bool all_unavailable = false;
  /// Health per target: (IP, site) records held, by their state; distinct sites held.
  std::array<std::uint32_t, pool::kIpStateCount> site_pairs_by_state{};
  std::uint32_t sites_held = 0;
  strategy::PoolCounters counters;
};

/// Takes the snapshot; call under SharedEngine::read.
PoolSnapshot take_pool_snapshot(const strategy::Engine& engine);

}  // namespace ipm::probe
