#pragma once

// A real strategy engine with a small pool, a decision log and a registry, wired into a
// probe::Context as the app wires them. Shared by the probe tests and benchmarks.

#include <memory>
#include <string>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include "config/config.hpp"
#include "pool/decision_log.hpp"
#include "pool/selector.hpp"
#include "probe/context.hpp"
#include "probe/router.hpp"
#include "strategy/shared_engine.hpp"

namespace ipm::test {

/// 2026-11-22T02:48:14Z, the time of the design doc's example line.
inline pool::TimePoint base_time() {
  return pool::TimePoint(std::chrono::seconds(1795315694));
}

inline std::string ip_of(std::size_t i) {
  return "10." + std::to_string(i / 65536 % 256) + "." + std::to_string(i / 256 % 256) + "." +
         std::to_string(i % 256);
}

inline std::vector<pool::Egress> egresses(std::size_t n) {
  std::vector<pool::Egress> out;
  for (std::size_t i = 0; i < n; ++i)
    out.push_back(pool::Egress{ip_of(i), static_cast<std::uint16_t>(19000 + i), "", 1});
  return out;
}

struct ProbeWorld {
  explicit ProbeWorld(std::size_t ips, config::Config c = {})
      : cfg(std::move(c)),
        selector(cfg.selection),
        engine(cfg, selector, egresses(ips), base_time()),
        decisions(100),
        registry(std::make_shared<prometheus::Registry>()),
        context(cfg) {
    context.engine = &engine;
    context.decisions = &decisions;
    context.collectables.push_back(registry);
    context.now = [this] { return now; };
  }

  /// One access-log line for IP `i`.
  void log(std::size_t i, int status, pool::TimePoint t, std::string_view key = "k1",
           std::string_view target = "example.com") {
    const std::string ip = ip_of(i);
    pool::LogEvent e;
    e.ip = ip;
    e.port = static_cast<std::uint16_t>(19000 + i);
    e.time = t;
    e.status = status;
    e.key = key;
    e.target = target;
    e.latency_seconds = 0.25F;
    engine.apply(e);
  }

  /// `n` lines per IP for the first `ips` IPs, mostly 200 with some 404s, one second apart.
  void fill(std::size_t ips, std::size_t n) {
    for (std::size_t k = 0; k < n; ++k) {
      for (std::size_t i = 0; i < ips; ++i)
        log(i, k % 10 == 9 ? 404 : 200, base_time() + std::chrono::seconds(k),
            "key" + std::to_string(k % 7), "t" + std::to_string(k % 30) + ".example.com");
    }
  }

  /// Enough failures to send IP `i` cooling.
  void trip(std::size_t i, pool::TimePoint t) {
    for (std::uint32_t k = 0; k < cfg.consecutive_failure; ++k)
      log(i, 429, t + std::chrono::milliseconds(k));
  }

  probe::Response request(boost::beast::http::verb method, std::string target,
                          std::string peer = "127.0.0.1",
                          std::vector<std::pair<std::string, std::string>> headers = {}) {
    probe::Request r;
    r.message.method(method);
    r.message.target(target);
    r.message.version(11);
    for (const auto& [k, v] : headers)
      r.message.set(k, v);
    r.peer = boost::asio::ip::make_address(peer);
    return probe::handle(r, context);
  }
  probe::Response get(std::string target) {
    return request(boost::beast::http::verb::get, std::move(target));
  }
  probe::Response post(std::string target) {
    return request(boost::beast::http::verb::post, std::move(target));
  }

  config::Config cfg;
  pool::Selector selector;
  strategy::SharedEngine engine;
  pool::DecisionLog decisions;
  std::shared_ptr<prometheus::Registry> registry;
  probe::Context context;
  pool::TimePoint now = base_time() + std::chrono::hours(1);
};

}  // namespace ipm::test
