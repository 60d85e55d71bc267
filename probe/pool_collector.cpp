#include "probe/pool_collector.hpp"

#include <charconv>
#include <span>
#include <string_view>

#include "probe/metrics_plan.hpp"
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
    series(std::span<const LabelView>(labels.begin(), labels.size()), value);
  }
  void series(std::span<const LabelView> labels, double value) {
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

// Counts the series a section would write (the pool-level one, for the plan).
class CountingSink {
 public:
  void family(std::string_view, std::string_view, MetricType) {}
  void series(std::initializer_list<LabelView>, double) { ++count_; }
  void series(std::span<const LabelView>, double) { ++count_; }
  std::size_t count() const { return count_; }

 private:
  std::size_t count_ = 0;
};

// What the scrape says about itself (the cap).
struct ScrapeNumbers {
  std::size_t series = 0;   // the whole scrape's
  std::size_t dropped = 0;  // left out by metrics_max_series
  std::uint64_t capped_scrapes = 0;
};

// The families with an ip label, in exposition order, for the IPs the plan gives them.
template <class Sink>
void emit_per_ip(const PoolSnapshot& s, const MetricsPlan& plan, Sink& out) {
  auto with = [&](IpSeries least, auto write) {
    for (std::size_t i = 0; i < s.ips.size(); ++i) {
      if (plan.ips[i] >= least)
        write(s.ips[i]);
    }
  };
  // One family whose series are {ip, port} per IP at `least`, valued by `value(ip)`.
  auto per_ip = [&](std::string_view name, std::string_view help, MetricType type, IpSeries least,
                    auto value) {
    out.family(name, help, type);
    with(least, [&](const IpNumbers& n) {
      out.series({{"ip", n.ip}, {"port", n.port}}, value(n));
    });
  };

  per_ip("ipmanager_all_list", "All IPs of the pool, available or not.", MetricType::Gauge,
         IpSeries::gauges, [](const IpNumbers&) { return 1.0; });
  per_ip("ipmanager_available_list", "1 for IPs that take traffic (available or on probation).",
         MetricType::Gauge, IpSeries::gauges,
         [](const IpNumbers& n) { return takes_traffic(n.state) ? 1.0 : 0.0; });
  per_ip("ipmanager_cooldown_list", "1 for IPs out of traffic (cooling down or banned).",
         MetricType::Gauge, IpSeries::gauges,
         [](const IpNumbers& n) { return takes_traffic(n.state) ? 0.0 : 1.0; });
  per_ip("ipmanager_consecutive_failure",
         "Consecutive failures of the IP inside the failure window.", MetricType::Gauge,
         IpSeries::gauges,
         [](const IpNumbers& n) { return static_cast<double>(n.consecutive_failures); });

  out.family("ipmanager_history_response",
             "Responses held in the IP's history, by status code and target (top targets by "
             "volume; the rest are folded into \"other\"). Rows without ip sum the IPs that "
             "have no rows of their own (metrics_history_labels, metrics_per_ip).",
             MetricType::Gauge);
  // A row's labels: ip and port (when its own), then status_code and target as configured.
  auto row = [&](const IpNumbers* n, const HistoryCell& cell) {
    char status[8];
    const auto end = std::to_chars(status, status + sizeof status, cell.status).ptr;
    LabelView labels[4];
    std::size_t k = 0;
    if (n != nullptr) {
      labels[k++] = {"ip", n->ip};
      labels[k++] = {"port", n->port};
    }
    if (s.labels.status_code)
      labels[k++] = {"status_code",
                     std::string_view(status, static_cast<std::size_t>(end - status))};
    if (s.labels.target)
      labels[k++] = {"target", s.target_labels[cell.target]};
    out.series(std::span<const LabelView>(labels, k), static_cast<double>(cell.count));
  };
  if (s.labels.ip) {
    with(IpSeries::detail, [&](const IpNumbers& n) {
      for (std::size_t c = n.cells_begin; c < n.cells_end; ++c)
        row(&n, s.cells[c]);
    });
  }
  for (const HistoryCell& cell : plan.folded)
    row(nullptr, cell);

  out.family("ipmanager_ip_state", "1 for the IP's current state, 0 for the others.",
             MetricType::Gauge);
  with(IpSeries::detail, [&](const IpNumbers& n) {
    for (const pool::IpState state : kStates)
      out.series({{"ip", n.ip}, {"port", n.port}, {"state", to_string(state)}},
                 n.state == state ? 1 : 0);
  });

  out.family("ipmanager_ip_responses_total",
             "Log lines attributed to the IP, by outcome (success, failure, neutral).",
             MetricType::Counter);
  with(IpSeries::detail, [&](const IpNumbers& n) {
    out.series({{"ip", n.ip}, {"outcome", "success"}, {"port", n.port}}, as_value(n.successes));
    out.series({{"ip", n.ip}, {"outcome", "failure"}, {"port", n.port}}, as_value(n.failures));
    out.series({{"ip", n.ip}, {"outcome", "neutral"}, {"port", n.port}}, as_value(n.neutrals));
  });

  per_ip("ipmanager_ip_dials_total",
         "Dials through the IP reported by the proxy and the active checks, made or not.",
         MetricType::Counter, IpSeries::detail,
         [](const IpNumbers& n) { return as_value(n.dials); });
  per_ip("ipmanager_ip_dial_failures_total", "Proxy dial failures reported for the IP.",
         MetricType::Counter, IpSeries::detail,
         [](const IpNumbers& n) { return as_value(n.dial_failures); });
  per_ip("ipmanager_ip_ejections_total", "Times the IP was taken out of traffic after failures.",
         MetricType::Counter, IpSeries::detail,
         [](const IpNumbers& n) { return as_value(n.ejections); });
  per_ip("ipmanager_ip_backoff_seconds",
         "Cooldown the IP's next ejection would get, before jitter.", MetricType::Gauge,
         IpSeries::detail, [](const IpNumbers& n) { return n.backoff_seconds; });
}

// The families without an ip label: their size does not depend on the pool's.
template <class Sink>
void emit_pool(const PoolSnapshot& s, const BuildInfo& build, const ScrapeNumbers& scrape,
               Sink& out) {
  out.family("ipmanager_pool_ips", "IPs of the pool by state.", MetricType::Gauge);
  for (const pool::IpState state : kStates)
    out.series({{"state", to_string(state)}}, s.ips_by_state[static_cast<std::size_t>(state)]);
  out.family("ipmanager_pool_ips_by_failure_ratio",
             "IPs of the pool by the share of failures among the successes and failures held "
             "in their history (judged by $status); none: no such response held.",
             MetricType::Gauge);
  for (std::size_t r = 0; r < kFailureRatios; ++r)
    out.series({{"ratio", to_string(static_cast<FailureRatio>(r))}}, s.ips_by_failure_ratio[r]);
  out.family("ipmanager_pool_ip_history_entries",
             "History entries held per IP over the pool's IPs: median, 95th percentile, most.",
             MetricType::Gauge);
  for (std::size_t q = 0; q < kHistoryQuantiles.size(); ++q)
    out.series({{"at", kHistoryQuantiles[q].label}}, s.history_entries[q]);
  out.family("ipmanager_pool_all_unavailable",
             "1 when no IP is available or on probation (the all_unavailable policy is in force).",
             MetricType::Gauge);
  out.series({}, s.all_unavailable ? 1 : 0);

  const strategy::PoolCounters& c = s.counters;
  out.family("ipmanager_responses_total",
             "Log lines attributed to IPs of the pool, by outcome (success, failure, neutral).",
             MetricType::Counter);
  out.series({{"outcome", "success"}}, as_value(c.successes));
  out.series({{"outcome", "failure"}}, as_value(c.failures));
  out.series({{"outcome", "neutral"}}, as_value(c.neutrals));
  out.family("ipmanager_ejections_total", "IPs taken out of traffic, by reason.",
             MetricType::Counter);
  out.series({{"reason", "failures"}}, as_value(c.ejections_failures));
  out.series({{"reason", "dial_failures"}}, as_value(c.ejections_dial));
  out.series({{"reason", "probation_failure"}}, as_value(c.ejections_probation));
  out.series({{"reason", "many_sites"}}, as_value(c.ejections_sites));
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

  // Health per target: counts over every (IP, site) pair, never a site label (the sites are
  // unbounded; /api/ip/{ip} and /probe?target= name them).
  out.family("ipmanager_site_pairs", "(IP, site) pairs with a per-site state, by that state.",
             MetricType::Gauge);
  for (const pool::IpState state : kStates)
    out.series({{"state", to_string(state)}},
               s.site_pairs_by_state[static_cast<std::size_t>(state)]);
  out.family("ipmanager_sites_tracked", "Distinct target sites some IP keeps a state for.",
             MetricType::Gauge);
  out.series({}, s.sites_held);
  out.family("ipmanager_site_failures_total",
             "Failures judged against their site only (not the egress's own).",
             MetricType::Counter);
  out.series({}, as_value(c.site_failures));
  out.family("ipmanager_site_ejections_total", "IPs taken out of traffic for one site, by reason.",
             MetricType::Counter);
  out.series({{"reason", "failures"}}, as_value(c.site_ejections));
  out.series({{"reason", "probation_failure"}}, as_value(c.site_ejections_probation));
  out.family("ipmanager_site_ejections_capped_total",
             "Ejections for one site not made because max_ejected_percent was reached for it.",
             MetricType::Counter);
  out.series({}, as_value(c.site_ejections_capped));
  out.family("ipmanager_site_probations_total", "IPs put on probation for one site.",
             MetricType::Counter);
  out.series({}, as_value(c.site_probations));
  out.family("ipmanager_site_recoveries_total", "IPs back to available for one site.",
             MetricType::Counter);
  out.series({}, as_value(c.site_recoveries));
  out.family("ipmanager_site_records_dropped_total",
             "Per-site states dropped: evicted by max_sites_per_ip, or forgotten once healthy.",
             MetricType::Counter);
  out.series({{"why", "evicted"}}, as_value(c.sites_evicted));
  out.series({{"why", "forgotten"}}, as_value(c.sites_forgotten));

  out.family("ipmanager_metrics_series", "Series in this scrape of /metrics.", MetricType::Gauge);
  out.series({}, static_cast<double>(scrape.series));
  out.family("ipmanager_metrics_series_dropped",
             "Per-IP series left out of this scrape by metrics_max_series.", MetricType::Gauge);
  out.series({}, static_cast<double>(scrape.dropped));
  out.family("ipmanager_metrics_capped_scrapes_total", "Scrapes that metrics_max_series cut short.",
             MetricType::Counter);
  out.series({}, as_value(scrape.capped_scrapes));
  out.family("ipmanager_build_info", "Build of the running ipmanager; always 1.",
             MetricType::Gauge);
  out.series({{"revision", build.revision}, {"version", build.version}}, 1);
}

}  // namespace

PoolCollector::PoolCollector(const strategy::SharedEngine& engine, BuildInfo build, Warn warn)
    : engine_(engine), build_(std::move(build)), warn_(std::move(warn)) {}

template <class Sink>
std::size_t PoolCollector::write(std::size_t others, Sink& out) const {
  const PoolSnapshot snapshot =
      engine_.read([](const strategy::Engine& engine) { return take_pool_snapshot(engine); });
  CountingSink fixed;
  emit_pool(snapshot, build_, ScrapeNumbers{}, fixed);
  const MetricsPlan plan = plan_metrics(snapshot, fixed.count(), others);
  ScrapeNumbers scrape{.series = others + plan.series, .dropped = plan.dropped()};
  scrape.capped_scrapes = capped_scrapes_.load(std::memory_order_relaxed);
  if (scrape.dropped > 0)
    scrape.capped_scrapes = capped_scrapes_.fetch_add(1, std::memory_order_relaxed) + 1;
  note_cap(scrape.dropped, snapshot.max_series);
  emit_per_ip(snapshot, plan, out);
  emit_pool(snapshot, build_, scrape, out);
  return plan.series;
}

void PoolCollector::note_cap(std::size_t dropped, std::uint32_t max_series) const {
  const bool capped = dropped > 0;
  if (capped_.exchange(capped, std::memory_order_relaxed) == capped || !warn_)
    return;
  // Once per change, not once per scrape: a capped pool is scraped every few seconds.
  if (capped) {
    warn_("metrics_max_series (" + std::to_string(max_series) + ") leaves " +
          std::to_string(dropped) +
          " per-IP series out of /metrics (counted in ipmanager_metrics_series_dropped): set "
          "metrics_per_ip: compact, or raise metrics_max_series and Prometheus' sample_limit");
  } else {
    warn_("every series fits metrics_max_series again");
  }
}

std::vector<MetricFamily> PoolCollector::Collect() const {
  std::vector<MetricFamily> families;
  FamilySink sink(families);
  write(0, sink);
  return families;
}

std::size_t PoolCollector::AppendText(std::string& out, std::size_t others) const {
  const std::size_t start = out.size();
  out.reserve(start + last_text_size_.load(std::memory_order_relaxed) + 4096);
  ExpositionWriter writer(out);
  const std::size_t series = write(others, writer);
  last_text_size_.store(out.size() - start, std::memory_order_relaxed);
  return series;
}

}  // namespace ipm::probe
