#include "probe/metrics_plan.hpp"

#include <algorithm>
#include <limits>

namespace ipm::probe {

namespace {

std::size_t own_rows(const PoolSnapshot& s, const IpNumbers& n) {
  return s.labels.ip ? n.cells_end - n.cells_begin : 0;
}

std::size_t cost(const PoolSnapshot& s, const IpNumbers& n, IpSeries level) {
  switch (level) {
    case IpSeries::none:
      return 0;
    case IpSeries::gauges:
      return kGoGaugesPerIp;
    case IpSeries::detail:
      return kGoGaugesPerIp + kDetailSeriesPerIp + own_rows(s, n);
  }
  return 0;
}

IpSeries wanted_level(config::MetricsPerIp mode, const IpNumbers& n) {
  switch (mode) {
    case config::MetricsPerIp::all:
      return IpSeries::detail;
    case config::MetricsPerIp::unavailable:
      return n.available() ? IpSeries::gauges : IpSeries::detail;
    case config::MetricsPerIp::compact:
      return n.available() ? IpSeries::none : IpSeries::detail;
  }
  return IpSeries::detail;
}

// Sums the history cells of the IPs `fold(i)` selects by (status, target): the rows without
// ip. A sorted merge, so the rows come out in a stable order.
template <class Fold>
std::vector<HistoryCell> fold_cells(const PoolSnapshot& s, Fold fold) {
  std::vector<HistoryCell> cells;
  for (std::size_t i = 0; i < s.ips.size(); ++i) {
    if (!fold(i))
      continue;
    const IpNumbers& n = s.ips[i];
    cells.insert(cells.end(), s.cells.begin() + static_cast<std::ptrdiff_t>(n.cells_begin),
                 s.cells.begin() + static_cast<std::ptrdiff_t>(n.cells_end));
  }
  std::sort(cells.begin(), cells.end(), [](const HistoryCell& a, const HistoryCell& b) {
    return a.status != b.status ? a.status < b.status : a.target < b.target;
  });
  std::vector<HistoryCell> merged;
  for (const HistoryCell& c : cells) {
    if (!merged.empty() && merged.back().status == c.status && merged.back().target == c.target)
      merged.back().count += c.count;
    else
      merged.push_back(c);
  }
  return merged;
}

}  // namespace

MetricsPlan plan_metrics(const PoolSnapshot& s, std::size_t fixed, std::size_t others) {
  MetricsPlan plan;
  const std::size_t n = s.ips.size();
  plan.ips.resize(n);
  std::size_t per_ip = 0;
  for (std::size_t i = 0; i < n; ++i) {
    plan.ips[i] = wanted_level(s.per_ip, s.ips[i]);
    per_ip += cost(s, s.ips[i], plan.ips[i]);
  }
  auto folds = [&](std::size_t i) { return !s.labels.ip || plan.ips[i] != IpSeries::detail; };
  plan.folded = fold_cells(s, folds);
  plan.wanted = fixed + per_ip + plan.folded.size();

  const std::size_t limit =
      s.max_series == 0 ? std::numeric_limits<std::size_t>::max() : s.max_series;
  const std::size_t room = limit > others ? limit - others : 0;
  if (plan.wanted <= room) {
    plan.series = plan.wanted;
    return plan;
  }
  // Over the cap. The rows without ip can only grow as IPs lose theirs; bound them by the
  // rows every IP's history would fold into, so the loop below never undershoots.
  const std::size_t fold_bound =
      s.labels.ip ? fold_cells(s, [](std::size_t) { return true; }).size() : plan.folded.size();
  std::size_t need = fixed + per_ip + fold_bound;
  auto lower = [&](bool available, IpSeries from, IpSeries to) {
    for (std::size_t i = n; i-- > 0 && need > room;) {
      if (plan.ips[i] != from || s.ips[i].available() != available)
        continue;
      need -= cost(s, s.ips[i], from) - cost(s, s.ips[i], to);
      plan.ips[i] = to;
    }
  };
  lower(true, IpSeries::detail, IpSeries::gauges);
  lower(false, IpSeries::detail, IpSeries::gauges);
  lower(true, IpSeries::gauges, IpSeries::none);
  lower(false, IpSeries::gauges, IpSeries::none);

  plan.folded = fold_cells(s, folds);
  plan.series = fixed + plan.folded.size();
  for (std::size_t i = 0; i < n; ++i)
    plan.series += cost(s, s.ips[i], plan.ips[i]);
  return plan;
}

}  // namespace ipm::probe
