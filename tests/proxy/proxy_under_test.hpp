#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <prometheus/registry.h>

#include "config/config.hpp"
#include "pool/decision_log.hpp"
#include "proxy/round_robin_source.hpp"
#include "proxy/server.hpp"

namespace ipm::proxy::test {

/// An egress of the test pool: next (127.0.0.1) and a port.
pool::Egress egress_at(std::uint16_t port);

/// A started proxy::Server on 127.0.0.1:ephemeral over a RoundRobinSource, with short
/// timeouts suited to tests. `tweak` adjusts the config before start.
class ProxyUnderTest {
 public:
  explicit ProxyUnderTest(std::vector<pool::Egress> egresses,
                          const std::function<void(config::Config&)>& tweak = {});

  std::uint16_t port() const { return port_; }

  /// Waits (bounded, 10 s) until `n` decisions are recorded; newest first.
  std::vector<pool::Decision> wait_for_decisions(std::size_t n) const;

  /// Current value of a counter or gauge; 0 when the series does not exist.
  double metric(const std::string& name, const std::map<std::string, std::string>& labels = {});

  config::Config config;
  RoundRobinSource source;
  pool::DecisionLog decisions{100000};
  prometheus::Registry registry;
  std::optional<Server> server;

 private:
  std::uint16_t port_ = 0;
};

}  // namespace ipm::proxy::test
