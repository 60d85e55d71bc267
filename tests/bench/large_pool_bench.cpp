// The per-event and per-connection costs at 100, 1,000 and 10,000 IPs (issue 22: they must
// not grow with the pool):
//   - Apply: one access-log event through SharedEngine (lock, engine, history ring, tally),
//     the path the scanner's events take; IPs drawn over the whole pool;
//   - ApplyBatch: the same events in batches of 256, as the scanner hands them over (per
//     event: items_per_second, or the time over 256);
//   - Pick: one selection from the published snapshot (no engine lock);
//   - Connection: the proxy's per-connection path through PoolEgressSource: pick, dial
//     outcome reported to the engine, opened, closed;
//   - StateChange: a ban and an unban through SharedEngine; each publishes a new snapshot
//     for selection (the snapshot swap). Only the changed IP's chunk of entries and its
//     piece of the selection schedule are built again; what is left per swap is a pointer
//     per chunk (64 IPs).
// Every IP holds 100 history entries before the timing starts.
//
//   build/release/tests/bench/large_pool_bench --benchmark_min_time=0.3

#include <chrono>
#include <span>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "app/pool_egress_source.hpp"
#include "pool/selector.hpp"
#include "strategy/shared_engine.hpp"

namespace {

using ipm::pool::TimePoint;

const TimePoint kStart = TimePoint(std::chrono::seconds(1'800'000'000));

struct World {
  explicit World(std::size_t ips) : selector(cfg.selection) {
    cfg.max_ejected_percent = 100;
    for (std::size_t i = 0; i < ips; ++i) {
      names.push_back("10." + std::to_string(i / 65536) + "." + std::to_string(i / 256 % 256) +
                      "." + std::to_string(i % 256));
      egresses.push_back({.ip = names.back(),
                          .port = static_cast<std::uint16_t>(20000 + i % 40000),
                          .server_name = {},
                          .weight = 1});
    }
    engine = std::make_unique<ipm::strategy::SharedEngine>(cfg, selector, egresses, kStart);
    for (std::size_t k = 0; k < 100; ++k) {
      for (std::size_t i = 0; i < ips; ++i)
        engine->apply(event(k * ips + i));
    }
  }

  ipm::pool::LogEvent event(std::uint64_t n) const {
    return {.ip = names[(n * 7919) % names.size()],
            .port = 0,
            .time = kStart + std::chrono::milliseconds(n),
            .status = n % 10 == 9 ? 404 : 200,
            .upstream_status = 0,
            .key = "key",
            .target = "target.example.com",
            .latency_seconds = 0.05F};
  }

  ipm::config::Config cfg;
  std::vector<std::string> names;
  std::vector<ipm::pool::Egress> egresses;
  ipm::pool::Selector selector;
  std::unique_ptr<ipm::strategy::SharedEngine> engine;
};

void BM_Apply(benchmark::State& state) {
  World w(static_cast<std::size_t>(state.range(0)));
  std::uint64_t n = 100 * w.names.size();
  for (auto _ : state)
    w.engine->apply(w.event(n++));
  state.SetItemsProcessed(state.iterations());
}

// The scanner's way: lines applied in batches (one engine lock each), here of 256 lines.
void BM_ApplyBatch(benchmark::State& state) {
  World w(static_cast<std::size_t>(state.range(0)));
  std::uint64_t n = 100 * w.names.size();
  std::vector<ipm::pool::LogEvent> batch(256);
  for (auto _ : state) {
    for (auto& e : batch)
      e = w.event(n++);
    w.engine->apply(std::span<const ipm::pool::LogEvent>(batch));
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(batch.size()));
}

void BM_Pick(benchmark::State& state) {
  World w(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    auto p = w.selector.pick();
    benchmark::DoNotOptimize(p);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_Connection(benchmark::State& state) {
  World w(static_cast<std::size_t>(state.range(0)));
  ipm::app::PoolEgressSource source(w.selector, *w.engine);
  std::uint64_t n = 0;
  for (auto _ : state) {
    const auto egress = source.pick(ipm::pool::kNginxRequest, {});
    if (!egress) {
      state.SkipWithError("no egress");
      break;
    }
    source.report(ipm::pool::DialOutcome{.ip = egress->ip,
                                         .port = egress->port,
                                         .time = kStart + std::chrono::milliseconds(n++),
                                         .result = ipm::pool::DialResult::ok,
                                         .dial_time = std::chrono::microseconds(300)});
    source.opened(*egress);
    source.closed(*egress);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_StateChange(benchmark::State& state) {
  World w(static_cast<std::size_t>(state.range(0)));
  std::uint64_t n = 0;
  for (auto _ : state) {
    const std::string& ip = w.names[n % w.names.size()];
    const TimePoint t = kStart + std::chrono::hours(1) + std::chrono::milliseconds(n++);
    w.engine->ban(ip, TimePoint::max(), "bench", t);
    w.engine->unban(ip, t);
  }
  state.SetItemsProcessed(2 * state.iterations());
}

BENCHMARK(BM_Apply)->Arg(100)->Arg(1000)->Arg(10000);
BENCHMARK(BM_ApplyBatch)->Arg(100)->Arg(1000)->Arg(10000);
BENCHMARK(BM_Pick)->Arg(100)->Arg(1000)->Arg(10000);
BENCHMARK(BM_Connection)->Arg(100)->Arg(1000)->Arg(10000);
BENCHMARK(BM_StateChange)->Arg(100)->Arg(1000)->Arg(10000)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
