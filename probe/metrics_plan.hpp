#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "probe/pool_snapshot.hpp"

namespace ipm::probe {

/// The per-IP series one IP gets in a scrape.
enum class IpSeries : std::uint8_t {
  none,    ///< nothing with its ip label
  gauges,  ///< the Go tool's four gauges
  detail,  ///< those, its own ipmanager_history_response rows (with the ip label) and the
           ///< ipmanager_ip_* families
};

/// Series of the ipmanager_ip_* families for one IP with detail: ip_state (4),
/// ip_responses_total (3), ip_dials_total, ip_dial_failures_total, ip_ejections_total,
/// ip_backoff_seconds.
inline constexpr std::size_t kDetailSeriesPerIp = 11;
inline constexpr std::size_t kGoGaugesPerIp = 4;

/// Which series of the pool collector one scrape holds: metrics_per_ip chooses the level of
/// each IP, then metrics_max_series (minus what the rest of the scrape holds) takes levels
/// away until the whole fits, in this order, each from the end of the pool's list:
/// the detail of available IPs, the detail of the others, the Go gauges of available IPs,
/// the Go gauges of the others. The pool-level families always stay (they are bounded).
/// History rows of IPs without rows of their own are summed into rows without ip and port,
/// so ipmanager_history_response summed by status or target is the pool's whatever the cap.
struct MetricsPlan {
  std::vector<IpSeries> ips;        ///< per IP of the snapshot, in its order
  std::vector<HistoryCell> folded;  ///< history rows without ip, by status then target
  std::size_t series = 0;           ///< series the pool collector writes
  std::size_t wanted = 0;           ///< what it would write without the cap
  std::size_t dropped() const { return wanted - series; }
};

/// `fixed` is the number of pool-level series (written whatever the plan); `others` what the
/// rest of the scrape holds. Pure: the same inputs give the same plan.
MetricsPlan plan_metrics(const PoolSnapshot& s, std::size_t fixed, std::size_t others);

}  // namespace ipm::probe
