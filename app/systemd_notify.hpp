#pragma once

#include <string_view>

namespace ipm::app {

// The service's state for systemd (the unit's Type=notify), sent with libsystemd's
// sd_notify() to $NOTIFY_SOCKET. Each call does nothing when the variable is unset (not
// started by systemd) and never fails the caller. Thread-safe.

/// READY=1: the pool config is read, the replay is done and every log is open.
void notify_ready(std::string_view status);
/// RELOADING=1 (SIGHUP); notify_ready() ends it.
void notify_reloading();
/// STOPPING=1 (SIGTERM: draining).
void notify_stopping();
/// STATUS=...: one line for `systemctl status` (what startup is waiting for).
void notify_status(std::string_view status);

}  // namespace ipm::app
