#include "probe/pool_collector.hpp"

#include <charconv>
#include <string_view>

#include "probe/pool_snapshot.hpp"

namespace ipm::probe {

namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

// Builds prometheus-cpp families; the other sink is ExpositionWriter (text). Both are fed
// by emit() below, so Collect() and AppendText() cannot disagree on names, labels or order.
class FamilySink {
 public:
  explicit FamilySink(std::vector<MetricFamily>& out) : out_(out) {}

  void family(std::string_view name, std::string_view help, MetricType type) {
    out_.push_back(MetricFamily{std::string(name), std::string(help), type, {}});
  }
  void series(std::initializer_list<LabelView> labels, double value) {
    MetricFamily& f = out_.back();
    ClientMetric& m = f.metric.emplace_back();
    m.label.reserve(labels.size());
    for (const LabelView& l : labels)
      m.label.push_back(ClientMetric::Label{std::string(l.name), std::string(l.value)});
    if (f.type == MetricType::Counter)
      m.counter.value = value;
    else
      m.gauge.value = value;
  }

 private:
  std::vector<MetricFamily>& out_;
};

constexpr pool::IpState kStates[] = {pool::IpState::available, pool::IpState::cooling,
                                     pool::IpState::probation, pool::IpState::banned};
static_assert(std::size(kStates) == pool::kIpStateCount);

bool takes_traffic(pool::IpState s) {
  return s == pool::IpState::available || s == pool::IpState::probation;
}

double as_value(std::uint64_t n) {
  return static_cast<double>(n);
}

// Every family in exposition order; each loops over the IPs, in the engine's order.
template <class Sink>
void emit(const PoolSnapshot& s, const BuildInfo& build, Sink& out) {
  // One family whose series are {ip, port} per IP, valued by `value(ip)`.
  auto per_ip = [&](std::string_view name, std::string_view help, MetricType type, auto value) {
    out.family(name, help, type);
    for (const IpNumbers& n : s.ips)
      out.series({{"ip", n.ip}, {"port", n.port}}, value(n));
  };

  per_ip("ipmanager_all_list", "All IPs of the pool, available or not.", MetricType::Gauge,
         [](const IpNumbers&) { return 1.0; });
  per_ip("ipmanager_available_list", "1 for IPs that take traffic (available or on probation).",
         MetricType::Gauge, [](const IpNumbers& n) { return takes_traffic(n.state) ? 1.0 : 0.0; });
  per_ip("ipmanager_cooldown_list", "1 for IPs out of traffic (cooling down or banned).",
         MetricType::Gauge, [](const IpNumbers& n) { return takes_traffic(n.state) ? 0.0 : 1.0; });
  per_ip("ipmanager_consecutive_failure",
         "Consecutive failures of the IP inside the failure window.", MetricType::Gauge,
         [](const IpNumbers& n) { return static_cast<double>(n.consecutive_failures); });

  out.family("ipmanager_history_response",
             "Responses held in the IP's history, by status code and target (top targets by "
             "volume; the rest are folded into \"other\").",
             MetricType::Gauge);
  for (const IpNumbers& n : s.ips) {
    for (std::size_t c = n.cells_begin; c < n.cells_end; ++c) {
      const HistoryCell& cell = s.cells[c];
      char status[8];
      const auto end = std::to_chars(status, status + sizeof status, cell.status).ptr;
      out.series({{"ip", n.ip},
                  {"port", n.port},
                  {"status_code", std::string_view(status, static_cast<std::size_t>(end - status))},
                  {"target", s.target_labels[cell.target]}},
                 static_cast<double>(cell.count));
    }
  }

  out.family("ipmanager_ip_state", "1 for the IP's current state, 0 for the others.",
             MetricType::Gauge);
  for (const IpNumbers& n : s.ips) {
    for (const pool::IpState state : kStates)
      out.series({{"ip", n.ip}, {"port", n.port}, {"state", to_string(state)}},
                 n.state == state ? 1 : 0);
  }

  out.family("ipmanager_ip_responses_total",
             "Log lines attributed to the IP, by outcome (success, failure, neutral).",
             MetricType::Counter);
  for (const IpNumbers& n : s.ips) {
    out.series({{"ip", n.ip}, {"outcome", "success"}, {"port", n.port}}, as_value(n.successes));
    out.series({{"ip", n.ip}, {"outcome", "failure"}, {"port", n.port}}, as_value(n.failures));
    out.series({{"ip", n.ip}, {"outcome", "neutral"}, {"port", n.port}}, as_value(n.neutrals));
  }

  per_ip("ipmanager_ip_dial_failures_total", "Proxy dial failures reported for the IP.",
         MetricType::Counter, [](const IpNumbers& n) { return as_value(n.dial_failures); });
  per_ip("ipmanager_ip_ejections_total", "Times the IP was taken out of traffic after failures.",
         MetricType::Counter, [](const IpNumbers& n) { return as_value(n.ejections); });
  per_ip("ipmanager_ip_backoff_seconds",
         "Cooldown the IP's next ejection would get, before jitter.", MetricType::Gauge,
         [](const IpNumbers& n) { return n.backoff_seconds; });

  out.family("ipmanager_pool_ips", "IPs of the pool by state.", MetricType::Gauge);
  for (const pool::IpState state : kStates)
    out.series({{"state", to_string(state)}}, s.ips_by_state[static_cast<std::size_t>(state)]);
  out.family("ipmanager_pool_all_unavailable",
             "1 when no IP is available or on probation (the all_unavailable policy is in force).",
             MetricType::Gauge);
  out.series({}, s.all_unavailable ? 1 : 0);

  const strategy::PoolCounters& c = s.counters;
  out.family("ipmanager_ejections_total", "IPs taken out of traffic, by reason.",
             MetricType::Counter);
  out.series({{"reason", "failures"}}, as_value(c.ejections_failures));
  out.series({{"reason", "dial_failures"}}, as_value(c.ejections_dial));
  out.series({{"reason", "probation_failure"}}, as_value(c.ejections_probation));
  out.family("ipmanager_ejections_capped_total",
             "Ejections not made because max_ejected_percent was reached.", MetricType::Counter);
  out.series({}, as_value(c.ejections_capped));
  out.family("ipmanager_strategy_events_total", "Events applied by the strategy engine, by source.",
             MetricType::Counter);
  out.series({{"source", "log"}}, as_value(c.events));
  out.series({{"source", "dial"}}, as_value(c.dial_outcomes));
  out.family("ipmanager_strategy_unknown_ip_events_total",
             "Events for IPs not in the pool, dropped.", MetricType::Counter);
  out.series({}, as_value(c.unknown_ip_events));
  out.family("ipmanager_probations_total", "IPs put on probation after a cooldown.",
             MetricType::Counter);
  out.series({}, as_value(c.probations));
  out.family("ipmanager_recoveries_total", "IPs back to available after a success on probation.",
             MetricType::Counter);
  out.series({}, as_value(c.recoveries));
  out.family("ipmanager_manual_commands_total", "Manual ban, unban and reset commands applied.",
             MetricType::Counter);
  out.series({}, as_value(c.manual));
  out.family("ipmanager_build_info", "Build of the running ipmanager; always 1.",
             MetricType::Gauge);
  out.series({{"revision", build.revision}, {"version", build.version}}, 1);
}

}  // namespace

PoolCollector::PoolCollector(const strategy::SharedEngine& engine, BuildInfo build)
    : engine_(engine), build_(std::move(build)) {}

std::vector<MetricFamily> PoolCollector::Collect() const {
  const PoolSnapshot snapshot =
      engine_.read([](const strategy::Engine& engine) { return take_pool_snapshot(engine); });
  std::vector<MetricFamily> families;
  FamilySink sink(families);
  emit(snapshot, build_, sink);
  return families;
}

void PoolCollector::AppendText(std::string& out) const {
  const PoolSnapshot snapshot =
      engine_.read([](const strategy::Engine& engine) { return take_pool_snapshot(engine); });
  const std::size_t start = out.size();
  out.reserve(start + last_text_size_.load(std::memory_order_relaxed) + 4096);
  ExpositionWriter writer(out);
  emit(snapshot, build_, writer);
  last_text_size_.store(out.size() - start, std::memory_order_relaxed);
}

}  // namespace ipm::probe
