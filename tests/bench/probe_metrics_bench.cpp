// /metrics in process at 300 IPs x 1,000 history entries (arguments: IPs), in its parts:
// the snapshot taken under the engine's lock, the pool collector's Collect(), prometheus-cpp's
// TextSerializer over those families, the collector's direct text (AppendText), and the whole route
// as the probe serves it. For profiling (valgrind --tool=callgrind) and for before/after figures
// that the load of a shared machine disturbs less than an HTTP benchmark;
// tests/bench/probe_bench.sh measures the same route over HTTP against the Go tool's 18 ms.
#include <sstream>

#include <benchmark/benchmark.h>
#include <prometheus/text_serializer.h>

#include "probe/pool_collector.hpp"
#include "probe/pool_snapshot.hpp"
#include "tests/probe/fixture.hpp"

namespace {

constexpr std::size_t kEntries = 1000;

struct World {
  explicit World(std::size_t ips) : world(ips, config()) {
    world.fill(ips, kEntries);
    collector = std::make_shared<ipm::probe::PoolCollector>(world.engine,
                                                            ipm::probe::BuildInfo{"bench", "b"});
    world.context.collectables.push_back(collector);
  }
  static ipm::config::Config config() {
    ipm::config::Config c;
    c.max_history_log_each_ip = kEntries;
    return c;
  }
  ipm::test::ProbeWorld world;
  std::shared_ptr<ipm::probe::PoolCollector> collector;
};

// The part done under the engine's lock.
void BM_Snapshot(benchmark::State& state) {
  World w(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    benchmark::DoNotOptimize(w.world.engine.read(
        [](const ipm::strategy::Engine& e) { return ipm::probe::take_pool_snapshot(e); }));
  }
}

void BM_Collect(benchmark::State& state) {
  World w(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state)
    benchmark::DoNotOptimize(w.collector->Collect());
}

void BM_TextSerializer(benchmark::State& state) {
  World w(static_cast<std::size_t>(state.range(0)));
  const auto families = w.collector->Collect();
  for (auto _ : state) {
    std::ostringstream out;
    prometheus::TextSerializer().Serialize(out, families);
    benchmark::DoNotOptimize(out.str());
  }
}

void BM_AppendText(benchmark::State& state) {
  World w(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    std::string out;
    w.collector->AppendText(out, 0);
    benchmark::DoNotOptimize(out);
  }
}

void BM_MetricsRoute(benchmark::State& state) {
  World w(static_cast<std::size_t>(state.range(0)));
  std::size_t bytes = 0;
  for (auto _ : state) {
    auto r = w.world.get("/metrics");
    bytes = ipm::probe::body_of(r).size();
    benchmark::DoNotOptimize(bytes);
  }
  state.counters["body_KB"] = static_cast<double>(bytes) / 1024.0;
}

BENCHMARK(BM_Snapshot)->Arg(300)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Collect)->Arg(300)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_TextSerializer)->Arg(300)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_AppendText)->Arg(300)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_MetricsRoute)->Arg(300)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
