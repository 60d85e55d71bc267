// Health per target site (issue 20): what per-site state costs, at 1,000 IPs and 10,000 sites
// whose traffic is Zipf-distributed (s = 1: a few sites carry most of it, as on a real pool).
//   - Apply/0 and Apply/1: one access-log event through SharedEngine with target_grouping
//     none (per-site state off) and site (on). 5% of the events are 403s the target answered
//     (with an upstream status), so the busy sites build per-site state on many IPs;
//   - Pick/0 and Pick/1: one selection from the published snapshot without a site and with
//     one drawn from the same Zipf law, while 5% of the (IP, site) pairs of the 1,000 most
//     failing sites are out for their site (the snapshot's per-site rules); no engine lock;
//   - PickRatio: the two picks above alternating in batches, their median batches and ratio;
//   - SourcePick/0 and SourcePick/1: the tcp front end's pick through PoolEgressSource
//     without a target and with one ("www.sN.example", grouped to its site by libpsl).
//
//   build/release/tests/bench/site_health_bench --benchmark_min_time=0.5

#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "app/pool_egress_source.hpp"
#include "pool/selector.hpp"
#include "strategy/shared_engine.hpp"

namespace {

using ipm::pool::TimePoint;

const TimePoint kStart = TimePoint(std::chrono::seconds(1'800'000'000));
constexpr std::size_t kIps = 1000;
constexpr std::size_t kSites = 10'000;

// Site indices drawn from Zipf(s = 1) over kSites, by the inverse of its CDF.
std::vector<std::uint32_t> zipf_draws(std::size_t n) {
  std::vector<double> cdf(kSites);
  double sum = 0;
  for (std::size_t k = 0; k < kSites; ++k)
    cdf[k] = sum += 1.0 / static_cast<double>(k + 1);
  std::mt19937_64 rng(20);
  std::uniform_real_distribution<double> u(0.0, sum);
  std::vector<std::uint32_t> out(n);
  for (auto& d : out)
    d = static_cast<std::uint32_t>(std::lower_bound(cdf.begin(), cdf.end(), u(rng)) - cdf.begin());
  return out;
}

struct World {
  explicit World(bool per_site) : selector(cfg.selection) {
    cfg.max_ejected_percent = 100;
    cfg.target_grouping =
        per_site ? ipm::config::TargetGrouping::site : ipm::config::TargetGrouping::none;
    for (std::size_t i = 0; i < kIps; ++i) {
      names.push_back("10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256));
      egresses.push_back({.ip = names.back(),
                          .port = static_cast<std::uint16_t>(20000 + i),
                          .server_name = {},
                          .weight = 1});
    }
    for (std::size_t s = 0; s < kSites; ++s) {
      sites.push_back("s" + std::to_string(s) + ".example");
      hosts.push_back("www." + sites.back());
    }
    draws = zipf_draws(1 << 16);
    engine = std::make_unique<ipm::strategy::SharedEngine>(cfg, selector, egresses, kStart);
    for (std::uint64_t n = 0; n < 100 * kIps; ++n)
      engine->apply(event(n));
  }

  ipm::pool::LogEvent event(std::uint64_t n) const {
    const bool failure = n % 20 == 19;
    return {.ip = names[(n * 7919) % kIps],
            .port = 0,
            .time = kStart + std::chrono::milliseconds(n),
            .status = failure ? 403 : 200,
            .upstream_status = failure ? 403 : 200,
            .key = "key",
            .target = hosts[draws[n % draws.size()]],
            .latency_seconds = 0.05F};
  }

  ipm::config::Config cfg;
  std::vector<std::string> names;
  std::vector<std::string> sites;
  std::vector<std::string> hosts;
  std::vector<std::uint32_t> draws;
  std::vector<ipm::pool::Egress> egresses;
  ipm::pool::Selector selector;
  std::unique_ptr<ipm::strategy::SharedEngine> engine;
};

void BM_Apply(benchmark::State& state) {
  World w(state.range(0) != 0);
  std::uint64_t n = 100 * kIps;
  for (auto _ : state)
    w.engine->apply(w.event(n++));
  state.SetItemsProcessed(state.iterations());
  state.counters["site_records"] = static_cast<double>(
      w.engine->read([](const ipm::strategy::Engine& e) { return e.sites_tracked(); }));
}

// A snapshot like the engine's, with per-site rules for the 1,000 busiest sites: each has 5%
// of the IPs out for it (50 rules), as a long-running pool blocked by many sites would.
void publish_with_site_rules(World& w) {
  ipm::pool::Snapshot s;
  for (const auto& e : w.egresses) {
    s.ips.push_back({.egress = e,
                     .state = ipm::pool::IpState::available,
                     .selectable = true,
                     .share = 1.0,
                     .active = {},
                     .target = {}});
  }
  s.count_by_state[static_cast<std::size_t>(ipm::pool::IpState::available)] =
      static_cast<std::uint32_t>(kIps);
  std::vector<ipm::pool::SiteRules> rules;
  for (std::size_t site = 0; site < 1000; ++site) {
    ipm::pool::SiteRules r{.site = w.sites[site], .rules = {}};
    for (std::uint32_t k = 0; k < kIps / 20; ++k)
      r.rules.push_back(
          {.ip = static_cast<std::uint32_t>((site * 37 + k * 20) % kIps), .share = 0.0F});
    std::sort(r.rules.begin(), r.rules.end(),
              [](const auto& a, const auto& b) { return a.ip < b.ip; });
    r.rules.erase(std::unique(r.rules.begin(), r.rules.end(),
                              [](const auto& a, const auto& b) { return a.ip == b.ip; }),
                  r.rules.end());
    rules.push_back(std::move(r));
  }
  s.set_sites(std::move(rules));
  w.selector.publish(std::move(s));
}

void BM_Pick(benchmark::State& state) {
  World w(true);
  publish_with_site_rules(w);
  const bool with_site = state.range(0) != 0;
  ipm::pool::Request request = ipm::pool::kNginxRequest;
  // The sites of 4,096 requests, copied together: a caller holds its request's site hot,
  // hashed once where it was made (the grouper's cache keeps the hash with the site).
  std::vector<std::string> texts;
  for (std::size_t k = 0; k < 4096; ++k)
    texts.push_back(w.sites[w.draws[k]]);
  const std::vector<ipm::pool::SiteName> ring(texts.begin(), texts.end());
  std::size_t n = 0;
  for (auto _ : state) {
    if (with_site)
      request.site = ring[n++ & 4095];
    auto p = w.selector.pick(request);
    benchmark::DoNotOptimize(p);
  }
  state.SetItemsProcessed(state.iterations());
}

// Pick/0 and Pick/1 run seconds apart, and on a shared VM the machine's speed moves more
// between them than the site costs. PickRatio alternates batches of 4,096 picks without and
// with a site in the same loop and reports each one's median batch: the ratio of the two is
// the figure the issue asks for (with a site within 1.2x of without).
void BM_PickRatio(benchmark::State& state) {
  World w(true);
  publish_with_site_rules(w);
  std::vector<std::string> texts;
  for (std::size_t k = 0; k < 4096; ++k)
    texts.push_back(w.sites[w.draws[k]]);
  const std::vector<ipm::pool::SiteName> ring(texts.begin(), texts.end());
  ipm::pool::Request plain = ipm::pool::kNginxRequest;
  ipm::pool::Request for_site = ipm::pool::kNginxRequest;
  std::vector<double> plain_ns;
  std::vector<double> site_ns;
  const auto batch = [&](bool with_site) {
    const auto start = std::chrono::steady_clock::now();
    for (std::size_t n = 0; n < 4096; ++n) {
      ipm::pool::Request& request = with_site ? for_site : plain;
      if (with_site)
        request.site = ring[n];
      auto p = w.selector.pick(request);
      benchmark::DoNotOptimize(p);
    }
    return std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start)
               .count() /
           4096;
  };
  for (auto _ : state) {
    plain_ns.push_back(batch(false));
    site_ns.push_back(batch(true));
  }
  const auto median = [](std::vector<double>& v) {
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end());
    return v[v.size() / 2];
  };
  const double without = median(plain_ns);
  const double with = median(site_ns);
  state.counters["pick_ns"] = without;
  state.counters["pick_for_site_ns"] = with;
  state.counters["ratio"] = with / without;
  state.SetItemsProcessed(state.iterations() * 2 * 4096);
}

void BM_SourcePick(benchmark::State& state) {
  World w(true);
  publish_with_site_rules(w);
  ipm::app::PoolEgressSource source(w.selector, *w.engine);
  const bool with_target = state.range(0) != 0;
  ipm::pool::Request request = ipm::pool::kNginxRequest;
  std::size_t n = 0;
  for (auto _ : state) {
    if (with_target)
      request.target = w.hosts[w.draws[n++ % w.draws.size()]];
    const auto egress = source.pick(request, {});
    if (!egress) {
      state.SkipWithError("no egress");
      break;
    }
    source.abandoned(*egress);
  }
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK(BM_Apply)->Arg(0)->Arg(1);
BENCHMARK(BM_Pick)->Arg(0)->Arg(1);
BENCHMARK(BM_PickRatio);
BENCHMARK(BM_SourcePick)->Arg(0)->Arg(1);

}  // namespace

BENCHMARK_MAIN();
