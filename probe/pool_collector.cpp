#include "probe/pool_collector.hpp"

#include <algorithm>
#include <unordered_map>

#include "probe/json_writer.hpp"

namespace ipm::probe {

namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;
using strategy::Engine;
using strategy::IpRecord;

MetricFamily family(std::string name, std::string help, MetricType type) {
  return MetricFamily{std::move(name), std::move(help), type, {}};
}

void add(MetricFamily& f, std::vector<ClientMetric::Label> labels, double value) {
  ClientMetric m;
  m.label = std::move(labels);
  if (f.type == MetricType::Counter)
    m.counter.value = value;
  else
    m.gauge.value = value;
  f.metric.push_back(std::move(m));
}

// The target label of every interned target: the cap's most frequent targets (over every
// IP's history) keep their name, the rest are folded into "other". Names are made valid
// UTF-8, which the exposition format requires and log bytes do not guarantee. Labels are
// deduplicated (two raw names may clean up to the same text), so no series repeats.
struct TargetLabels {
  std::vector<std::string> names;    // distinct label values
  std::vector<std::uint32_t> of_id;  // interner id -> index into names
};

TargetLabels target_labels(const Engine& engine, std::size_t cap) {
  const std::size_t ids = engine.targets().size();
  std::vector<std::uint64_t> counts(ids, 0);
  for (const IpRecord& r : engine.ips())
    r.history.for_each([&](const pool::HistoryEntry& e) {
      if (e.target < ids)
        ++counts[e.target];
    });
  std::vector<pool::Interner::Id> ranked;
  for (pool::Interner::Id id = 0; id < ids; ++id) {
    if (counts[id] > 0 && id != pool::Interner::kEmpty && id != pool::Interner::kOverflow)
      ranked.push_back(id);
  }
  std::sort(ranked.begin(), ranked.end(), [&](auto a, auto b) {
    if (counts[a] != counts[b])
      return counts[a] > counts[b];
    return engine.target(a) < engine.target(b);  // stable across scrapes
  });
  TargetLabels out;
  out.names = {"other", "-"};  // "-": no target, as nginx logs an absent header
  out.of_id.assign(ids, 0);
  if (pool::Interner::kEmpty < ids)
    out.of_id[pool::Interner::kEmpty] = 1;
  std::unordered_map<std::string, std::uint32_t> index{{"other", 0}, {"-", 1}};
  for (std::size_t i = 0; i < ranked.size() && i < cap; ++i) {
    auto name = to_valid_utf8(engine.target(ranked[i]));
    const auto [it, added] = index.emplace(name, static_cast<std::uint32_t>(out.names.size()));
    if (added)
      out.names.push_back(std::move(name));
    out.of_id[ranked[i]] = it->second;
  }
  return out;
}

// Statuses are 3-digit; anything else (0 for a missing field) shares the last row.
constexpr std::size_t kStatuses = 1000;

double backoff_seconds(const config::Config& cfg, double multiplier) {
  const double base = std::chrono::duration<double>(cfg.cool_down).count();
  const double cap = std::chrono::duration<double>(cfg.max_cool_down).count();
  return std::min(base * multiplier, std::max(cap, base));
}

}  // namespace

PoolCollector::PoolCollector(const strategy::SharedEngine& engine, BuildInfo build)
    : engine_(engine), build_(std::move(build)) {}

std::vector<MetricFamily> PoolCollector::Collect() const {
  auto all =
      family("ipmanager_all_list", "All IPs of the pool, available or not.", MetricType::Gauge);
  auto available =
      family("ipmanager_available_list", "1 for IPs that take traffic (available or on probation).",
             MetricType::Gauge);
  auto cooldown = family("ipmanager_cooldown_list",
                         "1 for IPs out of traffic (cooling down or banned).", MetricType::Gauge);
  auto failures =
      family("ipmanager_consecutive_failure",
             "Consecutive failures of the IP inside the failure window.", MetricType::Gauge);
  auto history = family("ipmanager_history_response",
                        "Responses held in the IP's history, by status code and target (top "
                        "targets by volume; the rest are folded into \"other\").",
                        MetricType::Gauge);
  auto state = family("ipmanager_ip_state", "1 for the IP's current state, 0 for the others.",
                      MetricType::Gauge);
  auto responses = family("ipmanager_ip_responses_total",
                          "Log lines attributed to the IP, by outcome (success, failure, neutral).",
                          MetricType::Counter);
  auto dial_failures = family("ipmanager_ip_dial_failures_total",
                              "Proxy dial failures reported for the IP.", MetricType::Counter);
  auto ip_ejections =
      family("ipmanager_ip_ejections_total",
             "Times the IP was taken out of traffic after failures.", MetricType::Counter);
  auto backoff =
      family("ipmanager_ip_backoff_seconds",
             "Cooldown the IP's next ejection would get, before jitter.", MetricType::Gauge);
  auto pool_ips = family("ipmanager_pool_ips", "IPs of the pool by state.", MetricType::Gauge);
  auto all_unavailable =
      family("ipmanager_pool_all_unavailable",
             "1 when no IP is available or on probation (the all_unavailable policy is in force).",
             MetricType::Gauge);
  auto ejections = family("ipmanager_ejections_total", "IPs taken out of traffic, by reason.",
                          MetricType::Counter);
  auto capped =
      family("ipmanager_ejections_capped_total",
             "Ejections not made because max_ejected_percent was reached.", MetricType::Counter);
  auto events = family("ipmanager_strategy_events_total",
                       "Events applied by the strategy engine, by source.", MetricType::Counter);
  auto unknown = family("ipmanager_strategy_unknown_ip_events_total",
                        "Events for IPs not in the pool, dropped.", MetricType::Counter);
  auto probations = family("ipmanager_probations_total", "IPs put on probation after a cooldown.",
                           MetricType::Counter);
  auto recoveries =
      family("ipmanager_recoveries_total", "IPs back to available after a success on probation.",
             MetricType::Counter);
  auto manual = family("ipmanager_manual_commands_total",
                       "Manual ban, unban and reset commands applied.", MetricType::Counter);
  auto build = family("ipmanager_build_info", "Build of the running ipmanager; always 1.",
                      MetricType::Gauge);

  engine_.read([&](const Engine& engine) {
    const auto targets = target_labels(engine, engine.config().history_target_label_cap);
    const std::size_t width = targets.names.size();
    std::vector<std::uint64_t> table(kStatuses * width, 0);
    std::vector<std::size_t> touched;
    for (const IpRecord& r : engine.ips()) {
      const std::string& ip = r.egress.ip;
      const std::string port = std::to_string(r.egress.port);
      const std::vector<ClientMetric::Label> id{{"ip", ip}, {"port", port}};
      const bool takes_traffic =
          r.state == pool::IpState::available || r.state == pool::IpState::probation;
      add(all, id, 1);
      add(available, id, takes_traffic ? 1 : 0);
      add(cooldown, id, takes_traffic ? 0 : 1);
      add(failures, id, r.consecutive_failures());
      for (std::size_t s = 0; s < pool::kIpStateCount; ++s) {
        const auto st = static_cast<pool::IpState>(s);
        add(state, {{"ip", ip}, {"port", port}, {"state", std::string(to_string(st))}},
            r.state == st ? 1 : 0);
      }
      const std::pair<const char*, std::uint64_t> outcomes[] = {{"success", r.counters.successes},
                                                                {"failure", r.counters.failures},
                                                                {"neutral", r.counters.neutrals}};
      for (const auto& [outcome, n] : outcomes)
        add(responses, {{"ip", ip}, {"outcome", outcome}, {"port", port}}, static_cast<double>(n));
      add(dial_failures, id, static_cast<double>(r.counters.dial_failures));
      add(ip_ejections, id, static_cast<double>(r.counters.ejections));
      add(backoff, id, backoff_seconds(engine.config(), r.backoff_multiplier));

      // (status, target label) -> count, in a table reused across IPs; `touched` lists
      // the cells to emit (sorted, so the series order is stable) and to clear.
      r.history.for_each([&](const pool::HistoryEntry& e) {
        const std::size_t label = e.target < targets.of_id.size() ? targets.of_id[e.target] : 0;
        const std::size_t cell = std::min<std::size_t>(e.status, kStatuses - 1) * width + label;
        if (table[cell]++ == 0)
          touched.push_back(cell);
      });
      std::sort(touched.begin(), touched.end());
      for (const std::size_t cell : touched) {
        add(history,
            {{"ip", ip},
             {"port", port},
             {"status_code", std::to_string(cell / width)},
             {"target", targets.names[cell % width]}},
            static_cast<double>(table[cell]));
        table[cell] = 0;
      }
      touched.clear();
    }
    for (std::size_t s = 0; s < pool::kIpStateCount; ++s) {
      const auto st = static_cast<pool::IpState>(s);
      add(pool_ips, {{"state", std::string(to_string(st))}}, engine.count(st));
    }
    add(all_unavailable, {}, engine.all_unavailable() ? 1 : 0);
    const strategy::PoolCounters& c = engine.counters();
    add(ejections, {{"reason", "failures"}}, static_cast<double>(c.ejections_failures));
    add(ejections, {{"reason", "dial_failures"}}, static_cast<double>(c.ejections_dial));
    add(ejections, {{"reason", "probation_failure"}}, static_cast<double>(c.ejections_probation));
    add(capped, {}, static_cast<double>(c.ejections_capped));
    add(events, {{"source", "log"}}, static_cast<double>(c.events));
    add(events, {{"source", "dial"}}, static_cast<double>(c.dial_outcomes));
    add(unknown, {}, static_cast<double>(c.unknown_ip_events));
    add(probations, {}, static_cast<double>(c.probations));
    add(recoveries, {}, static_cast<double>(c.recoveries));
    add(manual, {}, static_cast<double>(c.manual));
  });
  add(build, {{"revision", build_.revision}, {"version", build_.version}}, 1);

  std::vector<MetricFamily> out;
  for (auto* f : {&all,      &available,       &cooldown,      &failures,     &history,
                  &state,    &responses,       &dial_failures, &ip_ejections, &backoff,
                  &pool_ips, &all_unavailable, &ejections,     &capped,       &events,
                  &unknown,  &probations,      &recoveries,    &manual,       &build}) {
    out.push_back(std::move(*f));
  }
  return out;
}

}  // namespace ipm::probe
