#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "scanner/tailer.hpp"

namespace ipm::app {

/// What /ready and systemd's READY=1 wait for: the pool config read, the parse-mode replay
/// done, and every followed access log open (a log that vanishes or loses its read
/// permission later makes the service not ready again). Thread-safe once set_logs() is done.
class Readiness {
 public:
  using LogFiles = std::function<std::vector<scanner::FollowedFile>()>;

  void pool_config_read() { pool_config_read_ = true; }
  void replay_done() { replay_done_ = true; }
  /// Where the followed logs' state comes from; set once, before anyone asks.
  void set_logs(LogFiles logs) { logs_ = std::move(logs); }

  /// What is still missing, one line each ("access log /var/log/x.log: Permission
  /// denied"); empty when ready.
  std::vector<std::string> waiting_for() const;

 private:
  std::atomic<bool> pool_config_read_{false};
  std::atomic<bool> replay_done_{false};
  LogFiles logs_;
};

}  // namespace ipm::app
