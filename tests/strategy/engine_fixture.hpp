#pragma once

// A fake clock and small helpers shared by the engine tests: every time is "base + N seconds".

#include <chrono>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "pool/egress.hpp"
#include "pool/event.hpp"
#include "strategy/engine.hpp"

namespace ipm::strategy::test {

using namespace std::chrono_literals;

inline const pool::TimePoint kBase = pool::TimePoint(std::chrono::seconds(1'800'000'000));

inline pool::TimePoint at(std::chrono::seconds s) {
  return kBase + s;
}
inline pool::TimePoint at_s(long long s) {
  return kBase + std::chrono::seconds(s);
}

/// Defaults of the Go tool (cool_down 10m, 3 failures) with jitter off so times are exact.
inline config::Config test_config() {
  config::Config c;
  c.cool_down = 10min;
  c.max_cool_down = 1h;
  c.failure_window = 5min;
  c.consecutive_failure = 3;
  c.cool_down_jitter = 0.0;
  c.backoff_decay_after = 30min;
  c.max_ejected_percent = 100;
  c.decisions_kept = 100000;
  c.max_history_log_each_ip = 1000;
  c.max_cool_down_log_each_ip = 1000;
  return c;
}

inline std::vector<pool::Egress> egresses(int n) {
  std::vector<pool::Egress> out;
  for (int i = 1; i <= n; ++i) {
    out.push_back(pool::Egress{.ip = "127.0.1." + std::to_string(i),
                               .port = static_cast<std::uint16_t>(19000 + i),
                               .server_name = {},
                               .weight = 1});
  }
  return out;
}

inline pool::LogEvent log_event(std::string_view ip, pool::TimePoint t, int status,
                                int upstream = 0, std::string_view key = "k1",
                                std::string_view target = "example.com") {
  return pool::LogEvent{.ip = ip,
                        .port = 0,
                        .time = t,
                        .status = status,
                        .upstream_status = upstream,
                        .key = key,
                        .target = target,
                        .latency_seconds = 0.01F};
}

inline pool::DialOutcome dial(std::string_view ip, pool::TimePoint t, pool::DialResult r) {
  return pool::DialOutcome{.ip = ip, .port = 0, .time = t, .result = r, .dial_time = {}};
}

/// Decisions about `ip`, oldest first.
inline std::vector<DecisionRecord> decisions_of(const Engine& e, std::string_view ip) {
  std::vector<DecisionRecord> out;
  for (auto& d : e.decisions_after(0)) {
    if (d.ip == ip)
      out.push_back(d);
  }
  return out;
}

}  // namespace ipm::strategy::test
