#include "app/reload_status.hpp"

#include <chrono>

namespace ipm::app {

ReloadStatus::ReloadStatus(prometheus::Registry& registry)
    : successful_(prometheus::BuildGauge()
                      .Name("ipmanager_config_last_reload_successful")
                      .Help("1 when the last reload (SIGHUP) or pool rescan (POST /api/ip/renew) "
                            "succeeded, 0 when it failed and the running configuration was kept")
                      .Register(registry)
                      .Add({})),
      success_time_(prometheus::BuildGauge()
                        .Name("ipmanager_config_last_reload_success_timestamp_seconds")
                        .Help("Unix time of the last successful configuration load, reload or "
                              "pool rescan")
                        .Register(registry)
                        .Add({})) {
  succeeded();
}

void ReloadStatus::succeeded() {
  successful_.Set(1);
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  success_time_.Set(std::chrono::duration<double>(now).count());
}

void ReloadStatus::failed() {
  successful_.Set(0);
}

}  // namespace ipm::app
