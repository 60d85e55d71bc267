// Selections per second on a 1,000-IP pool, from several threads, for each policy; the cost
// of publishing a snapshot; and, as the ratio's reference, a lock-protected random pick of
// the kind the Go tool does (a mutex around the available list and one generator).
//
//   build/release/tests/bench/pool_selection_bench --benchmark_min_time=0.5

#include <mutex>
#include <random>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "pool/selector.hpp"

namespace {

using ipm::config::Selection;
using ipm::pool::IpState;
using ipm::pool::Selector;
using ipm::pool::Snapshot;

constexpr int kIps = 1000;

// 1,000 IPs: 80% available (weights 1-4), 10% on probation, 10% cooling.
Snapshot pool_snapshot() {
  Snapshot s;
  for (int i = 0; i < kIps; ++i) {
    ipm::pool::SnapshotEntry e;
    e.egress = {.ip = "10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256),
                .port = static_cast<std::uint16_t>(20000 + i),
                .server_name = {},
                .weight = static_cast<std::uint32_t>(1 + i % 4)};
    e.state =
        i % 10 == 8 ? IpState::probation : (i % 10 == 9 ? IpState::cooling : IpState::available);
    e.selectable = e.state != IpState::cooling;
    e.share = e.state == IpState::available ? 1.0 : (e.state == IpState::probation ? 0.1 : 0.0);
    s.ips.push_back(std::move(e));
  }
  return s;
}

Selector& selector_for(Selection policy) {
  static Selector random(Selection::random);
  static Selector round_robin(Selection::round_robin);
  static Selector weighted(Selection::weighted);
  static Selector least_conn(Selection::least_conn);
  static const bool published = [] {
    for (Selector* s : {&random, &round_robin, &weighted, &least_conn})
      s->publish(pool_snapshot());
    return true;
  }();
  (void)published;
  switch (policy) {
    case Selection::random:
      return random;
    case Selection::round_robin:
      return round_robin;
    case Selection::weighted:
      return weighted;
    case Selection::least_conn:
      return least_conn;
  }
  return random;
}

template <Selection P>
void BM_Pick(benchmark::State& state) {
  Selector& sel = selector_for(P);
  for (auto _ : state) {
    auto p = sel.pick();  // acquired and released: one connection's worth of accounting
    benchmark::DoNotOptimize(p);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Pick<Selection::random>)->Threads(1)->Threads(2)->Threads(4)->UseRealTime();
BENCHMARK(BM_Pick<Selection::round_robin>)->Threads(1)->Threads(2)->Threads(4)->UseRealTime();
BENCHMARK(BM_Pick<Selection::weighted>)->Threads(1)->Threads(2)->Threads(4)->UseRealTime();
BENCHMARK(BM_Pick<Selection::least_conn>)->Threads(1)->Threads(2)->Threads(4)->UseRealTime();

// Reference: a mutex around a list of available IPs and one shared generator, returning a
// copy of the IP string, as a straightforward locked selector (the Go tool's shape) does.
void BM_LockedRandomReference(benchmark::State& state) {
  static std::mutex mutex;
  static std::mt19937_64 rng(42);
  static const std::vector<std::string> available = [] {
    std::vector<std::string> v;
    for (const auto& e : pool_snapshot().ips)
      if (e.state == IpState::available)
        v.push_back(e.egress.ip);
    return v;
  }();
  for (auto _ : state) {
    std::string ip;
    {
      std::lock_guard lock(mutex);
      ip = available[rng() % available.size()];
    }
    benchmark::DoNotOptimize(ip);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_LockedRandomReference)->Threads(1)->Threads(2)->Threads(4)->UseRealTime();

// Publishing: counters attached, schedule built (10% probation => 10 slots per healthy IP).
void BM_Publish(benchmark::State& state) {
  Selector sel(Selection::weighted);
  const Snapshot s = pool_snapshot();
  for (auto _ : state)
    sel.publish(s);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Publish)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
