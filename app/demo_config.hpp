#pragma once

namespace ipm::app {

/// The embedded config of `--demo`: deploy/demo.sh generates a loopback pool whose nginx
/// config and log land in /tmp/ipmanager-demo, and runs ipmanager on this.
inline constexpr const char* kDemoConfig =
    R"(# ipmanager demo (loopback pool made by deploy/demo.sh)
mode: serve
probe_port: 9095
proxy_port: 9096
next: 127.0.0.1
upstream_conf_path: /tmp/ipmanager-demo/conf/pool.conf
access_log_path: /tmp/ipmanager-demo/logs/access.log
consecutive_failure: 3
failure_window: 1m
cool_down_min: 5s
max_cool_down: 1m
scan_interval_min: 1s
dial_timeout: 1s
state_dir: /tmp/ipmanager-demo/state
)";

}  // namespace ipm::app
