#pragma once

#include <atomic>
#include <string>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include "probe/exposition.hpp"
#include "strategy/shared_engine.hpp"

namespace ipm::probe {

/// Version labels of ipmanager_build_info.
struct BuildInfo {
  std::string version;
  std::string revision;
};

/// The pool's metrics, built at scrape time from the strategy engine's state, so an IP
/// removed by a reload leaves no stale series and label sets stay bounded:
///
/// - the Go tool's gauges, same names and `ip`, `port` labels: ipmanager_all_list,
///   ipmanager_available_list (available or on probation), ipmanager_cooldown_list
///   (cooling or banned), ipmanager_consecutive_failure, and ipmanager_history_response
///   (responses held in the IP's history by `status_code` "200" and `target`, the latter
///   only for the `history_target_label_cap` most frequent targets, the rest "other");
/// - per IP: ipmanager_ip_state{state}, ipmanager_ip_responses_total{outcome},
///   ipmanager_ip_dial_failures_total, ipmanager_ip_ejections_total,
///   ipmanager_ip_backoff_seconds;
/// - pool: ipmanager_pool_ips{state}, ipmanager_pool_all_unavailable,
///   ipmanager_ejections_total{reason}, ipmanager_ejections_capped_total,
///   ipmanager_strategy_events_total{source}, ipmanager_strategy_unknown_ip_events_total,
///   ipmanager_probations_total, ipmanager_recoveries_total, ipmanager_manual_commands_total,
///   ipmanager_build_info{version,revision}.
///
/// Collect() returns them as prometheus-cpp families; AppendText() writes the same families
/// as text, byte-identical to TextSerializer's output for Collect(), without building them
/// (/metrics uses it: at 300 IPs it is most of the exposition).
///
/// Thread-safe: each call takes the engine's lock once, to copy the numbers
/// (a PoolSnapshot); families and text are built after the lock is released.
class PoolCollector final : public prometheus::Collectable, public TextExposition {
 public:
  PoolCollector(const strategy::SharedEngine& engine, BuildInfo build);

  std::vector<prometheus::MetricFamily> Collect() const override;
  void AppendText(std::string& out) const override;

 private:
  const strategy::SharedEngine& engine_;
  BuildInfo build_;
  // Size of the last text, to reserve the next one at once (no regrowth of ~1 MB).
  mutable std::atomic<std::size_t> last_text_size_{0};
};

}  // namespace ipm::probe
