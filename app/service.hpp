#pragma once

#include <functional>

#include "config/config.hpp"

namespace ipm::app {

/// Reads the configuration again (SIGHUP). Throws config::ConfigError on a bad config.
using ConfigSource = std::function<config::Config()>;

/// The running sidecar: reads the upstream config, builds the pool and the strategy engine,
/// follows the access log, and serves the proxy and the probe until SIGTERM/SIGINT.
///   SIGHUP: the config file and the upstream config are read again; IPs that stay keep
///           their state, added ones start available, removed ones leave selection at once.
///           Keys that need new sockets or threads (ports, hosts, log paths, format,
///           strategy parameters) take effect on restart, and the log says which.
///   SIGTERM/SIGINT: stop accepting, drain proxied connections (drain_timeout), exit 0.
class Service {
 public:
  Service(config::Config config, ConfigSource reload);
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;
  ~Service();

  /// Runs until SIGTERM/SIGINT; returns the process exit code. Startup problems (a bad
  /// upstream config or log format, a port in use) throw with a message for the operator.
  int run();

 private:
  config::Config config_;
  ConfigSource reload_;
};

}  // namespace ipm::app
