#pragma once

#include <functional>

#include "config/config.hpp"

namespace ipm::app {

/// Reads the configuration again (SIGHUP). Throws config::ConfigError on a bad config.
using ConfigSource = std::function<config::Config()>;

/// The running sidecar: owns the io_context, the components and the signal handling.
/// SIGHUP reloads through `reload`; SIGTERM and SIGINT drain and make run() return 0.
class Service {
 public:
  Service(config::Config config, ConfigSource reload);
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;
  ~Service();

  /// Runs until SIGTERM/SIGINT; returns the process exit code.
  int run();

 private:
  config::Config config_;
  ConfigSource reload_;
};

}  // namespace ipm::app
