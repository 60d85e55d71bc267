#pragma once

#include <atomic>
#include <functional>
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
///   (responses held in the IPs' histories with the labels of metrics_history_labels:
///   `ip` and `port`, `status_code` "200", `target` for the `history_target_label_cap` most
///   frequent targets, the rest "other");
/// - per IP: ipmanager_ip_state{state}, ipmanager_ip_responses_total{outcome},
///   ipmanager_ip_dial_failures_total, ipmanager_ip_ejections_total,
///   ipmanager_ip_backoff_seconds;
/// - pool: ipmanager_pool_ips{state}, ipmanager_pool_ips_by_failure_ratio{ratio},
///   ipmanager_pool_all_unavailable, ipmanager_responses_total{outcome},
///   ipmanager_ejections_total{reason}, ipmanager_ejections_capped_total,
///   ipmanager_strategy_events_total{source}, ipmanager_strategy_unknown_ip_events_total,
///   ipmanager_probations_total, ipmanager_recoveries_total, ipmanager_manual_commands_total,
///   ipmanager_metrics_series, ipmanager_metrics_series_dropped,
///   ipmanager_metrics_capped_scrapes_total, ipmanager_build_info{version,revision}.
///
/// Which IPs get per-IP series is metrics_per_ip's choice, cut by metrics_max_series
/// (MetricsPlan says how); the pool-level families are always whole.
///
/// Collect() returns them as prometheus-cpp families; AppendText() writes the same families
/// as text, byte-identical to TextSerializer's output for Collect(), without building them
/// (/metrics uses it: at 300 IPs it is most of the exposition).
///
/// Thread-safe: each call takes the engine's lock once, to copy the numbers
/// (a PoolSnapshot); families and text are built after the lock is released.
class PoolCollector final : public prometheus::Collectable, public TextExposition {
 public:
  /// Called when metrics_max_series starts or stops leaving series out (once per change).
  using Warn = std::function<void(const std::string&)>;

  PoolCollector(const strategy::SharedEngine& engine, BuildInfo build, Warn warn = {});

  /// The families as if the rest of the scrape were empty.
  std::vector<prometheus::MetricFamily> Collect() const override;
  std::size_t AppendText(std::string& out, std::size_t others) const override;

 private:
  template <class Sink>
  std::size_t write(std::size_t others, Sink& out) const;
  void note_cap(std::size_t dropped, std::uint32_t max_series) const;

  const strategy::SharedEngine& engine_;
  BuildInfo build_;
  Warn warn_;
  mutable std::atomic<std::uint64_t> capped_scrapes_{0};
  mutable std::atomic<bool> capped_{false};
  // Size of the last text, to reserve the next one at once (no regrowth of ~1 MB).
  mutable std::atomic<std::size_t> last_text_size_{0};
};

}  // namespace ipm::probe
