#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <prometheus/collectable.h>

#include "clients/client_limits.hpp"
#include "config/config.hpp"
#include "pool/decision_log.hpp"
#include "pool/operator_action.hpp"
#include "pool/selector.hpp"
#include "pool/time.hpp"
#include "strategy/shared_engine.hpp"

namespace ipm::probe {

/// The proxy's running totals, for the page's connections/s and bytes/s.
struct TrafficTotals {
  std::uint64_t open = 0;         ///< client connections open now
  std::uint64_t connections = 0;  ///< client connections finished since start
  std::uint64_t bytes_up = 0;     ///< client -> egress, since start
  std::uint64_t bytes_down = 0;   ///< egress -> client, since start
};

/// What the routes read and call. Owned by the app and outliving the server.
/// Collaborators are set once before serving and not changed afterwards; each is optional,
/// and a route whose collaborator is missing answers 503. The config can be replaced at any
/// time (SIGHUP reload). Thread-safe for that use: sessions read it from any thread.
class Context {
 public:
  explicit Context(config::Config config);
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  /// The effective config (for /config, api_token and the metric label cap).
  std::shared_ptr<const config::Config> config() const;
  void set_config(config::Config config);

  /// The strategy engine: /probe, /api/ip/..., manual ban/unban/reset.
  strategy::SharedEngine* engine = nullptr;
  /// The proxy's decisions: /api/decisions.
  const pool::DecisionLog* decisions = nullptr;
  /// Open connections per egress (the page's "open" column).
  const pool::Selector* selector = nullptr;
  /// The proxy's totals (the page's header); called from a probe thread, so thread-safe.
  std::function<TrafficTotals()> traffic;
  /// The open connections of each client, in all and per egress (the proxy's per-client
  /// counts): /api/clients. Called from a probe thread, so thread-safe.
  std::function<std::vector<clients::ClientLimits::ClientCount>()> clients;
  /// Serialized by /metrics, in order: the app's registry, the pool collector, ...
  std::vector<std::shared_ptr<const prometheus::Collectable>> collectables;
  /// POST /api/ip/renew: rescans the upstream config now; nullopt when it worked, else the
  /// reason (the running pool is kept). Called on a probe thread, which in the app is the
  /// thread that owns the pool config.
  std::function<std::optional<std::string>()> renew;
  /// Makes an operator action durable before it is applied (the app's journal, then a log
  /// line naming the client): nullopt when done, else why not (the action is then refused
  /// with 503). Unset: actions are applied without a journal.
  std::function<std::optional<std::string>(const pool::OperatorAction&)> journal;
  /// GET /ready: what the service still waits for, one line each; empty (or unset) when
  /// ready. Called on a probe thread: must be thread-safe.
  std::function<std::vector<std::string>()> readiness;
  /// Wall clock for manual commands ("ban for 10m" starts now). Injected for tests.
  std::function<pool::TimePoint()> now = [] { return pool::Clock::now(); };

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const config::Config> config_;
};

}  // namespace ipm::probe
