// Log events per second through the strategy engine (1,000 IPs, history 1,000 each), single
// owner and through SharedEngine (lock per event, and one lock per batch of 64).
//
//   build/release/tests/bench/strategy_engine_bench --benchmark_min_time=0.5

#include <random>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "strategy/engine.hpp"
#include "strategy/shared_engine.hpp"

namespace {

constexpr int kIps = 1000;

std::vector<ipm::pool::Egress> pool_egresses() {
  std::vector<ipm::pool::Egress> out;
  for (int i = 0; i < kIps; ++i) {
    out.push_back({.ip = "10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256),
                   .port = static_cast<std::uint16_t>(20000 + i),
                   .server_name = {},
                   .weight = 1});
  }
  return out;
}

struct Feed {
  std::vector<std::string> ips;
  std::vector<std::string> keys;
  std::vector<int> statuses;
  Feed() : ips(), keys() {
    for (const auto& e : pool_egresses())
      ips.push_back(e.ip);
    for (int i = 0; i < 200; ++i)
      keys.push_back("key-" + std::to_string(i));
    std::mt19937 rng(7);
    for (int i = 0; i < 4096; ++i) {
      const auto r = rng() % 100;
      statuses.push_back(r < 85 ? 200 : (r < 92 ? 404 : (r < 97 ? 429 : 503)));
    }
  }
  ipm::pool::LogEvent event(std::uint64_t i, ipm::pool::TimePoint t) const {
    return {.ip = ips[(i * 7919) % ips.size()],
            .port = 0,
            .time = t,
            .status = statuses[i % statuses.size()],
            .upstream_status = 0,
            .key = keys[i % keys.size()],
            .target = "target.example.com",
            .latency_seconds = 0.05F};
  }
};

const ipm::pool::TimePoint kStart = ipm::pool::TimePoint(std::chrono::seconds(1'800'000'000));

void BM_EngineApply(benchmark::State& state) {
  const Feed feed;
  ipm::config::Config cfg;
  ipm::strategy::Engine engine(cfg, pool_egresses(), kStart);
  std::uint64_t i = 0;
  for (auto _ : state) {
    engine.apply(feed.event(i, kStart + std::chrono::milliseconds(i)));
    ++i;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EngineApply);

void BM_SharedEngineApply(benchmark::State& state) {
  const Feed feed;
  ipm::config::Config cfg;
  ipm::pool::Selector selector(cfg.selection);
  ipm::strategy::SharedEngine shared(cfg, selector, pool_egresses(), kStart);
  const auto batch = static_cast<std::size_t>(state.range(0));
  std::vector<ipm::pool::LogEvent> events(batch);
  std::uint64_t i = 0;
  for (auto _ : state) {
    for (auto& e : events) {
      e = feed.event(i, kStart + std::chrono::milliseconds(i));
      ++i;
    }
    if (batch == 1)
      shared.apply(events[0]);
    else
      shared.apply(std::span<const ipm::pool::LogEvent>(events));
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(batch));
}
BENCHMARK(BM_SharedEngineApply)->Arg(1)->Arg(64);

}  // namespace

BENCHMARK_MAIN();
