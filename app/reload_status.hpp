#pragma once

#include <prometheus/gauge.h>
#include <prometheus/registry.h>

namespace ipm::app {

/// The outcome of the last configuration reload (SIGHUP) or pool rescan (POST
/// /api/ip/renew), as Prometheus exposes its own:
///   ipmanager_config_last_reload_successful                   1 or 0
///   ipmanager_config_last_reload_success_timestamp_seconds    Unix time of the last success
/// The startup load counts as the first success. Thread-safe (prometheus-cpp gauges).
class ReloadStatus {
 public:
  explicit ReloadStatus(prometheus::Registry& registry);
  ReloadStatus(const ReloadStatus&) = delete;
  ReloadStatus& operator=(const ReloadStatus&) = delete;

  void succeeded();
  void failed();

 private:
  prometheus::Gauge& successful_;
  prometheus::Gauge& success_time_;
};

}  // namespace ipm::app
