#include "probe/pool_snapshot.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <unordered_map>

#include "probe/json_writer.hpp"

namespace ipm::probe {

namespace {

using strategy::Engine;
using strategy::IpRecord;

// The target label of every interned target: the cap's most frequent targets (over every
// IP's history) keep their name, the rest are folded into "other". Names are made valid
// UTF-8, which the exposition format requires and log bytes do not guarantee. Labels are
// deduplicated (two raw names may clean up to the same text), so no series repeats.
std::vector<std::uint32_t> rank_targets(const Engine& engine, std::size_t cap,
                                        std::vector<std::string>& labels) {
  const std::size_t ids = engine.targets().size();
  std::vector<std::uint64_t> counts(ids, 0);
  for (const IpRecord& r : engine.ips())
    r.history_tally.for_each([&](std::uint16_t, pool::Interner::Id target, std::uint32_t n) {
      if (target < ids)
        counts[target] += n;
    });
  std::vector<pool::Interner::Id> ranked;
  for (pool::Interner::Id id = 0; id < ids; ++id) {
    if (counts[id] > 0 && id != pool::Interner::kEmpty && id != pool::Interner::kOverflow)
      ranked.push_back(id);
  }
  const std::size_t kept = std::min(cap, ranked.size());
  std::partial_sort(ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(kept),
                    ranked.end(), [&](auto a, auto b) {
                      if (counts[a] != counts[b])
                        return counts[a] > counts[b];
                      return engine.target(a) < engine.target(b);  // stable across scrapes
                    });
  labels = {"other", "-"};  // "-": no target, as nginx logs an absent header
  std::vector<std::uint32_t> of_id(ids, 0);
  if (pool::Interner::kEmpty < ids)
    of_id[pool::Interner::kEmpty] = 1;
  std::unordered_map<std::string, std::uint32_t> index{{"other", 0}, {"-", 1}};
  for (std::size_t i = 0; i < kept; ++i) {
    auto name = to_valid_utf8(engine.target(ranked[i]));
    const auto [it, added] = index.emplace(name, static_cast<std::uint32_t>(labels.size()));
    if (added)
      labels.push_back(std::move(name));
    of_id[ranked[i]] = it->second;
  }
  return of_id;
}

// Statuses are 3-digit (0 for a missing field); larger values are counted as 999.
constexpr std::size_t kStatuses = 1000;

double backoff_seconds(const config::Config& cfg, double multiplier) {
  const double base = std::chrono::duration<double>(cfg.cool_down).count();
  const double cap = std::chrono::duration<double>(cfg.max_cool_down).count();
  return std::min(base * multiplier, std::max(cap, base));
}

}  // namespace

std::string_view to_string(FailureRatio r) {
  switch (r) {
    case FailureRatio::none:
      return "none";
    case FailureRatio::zero:
      return "0";
    case FailureRatio::up_to_10:
      return "0-0.1";
    case FailureRatio::up_to_50:
      return "0.1-0.5";
    case FailureRatio::below_100:
      return "0.5-1";
    case FailureRatio::all:
      return "1";
  }
  return "none";
}

FailureRatio failure_ratio(std::uint32_t failures, std::uint32_t judged) {
  if (judged == 0)
    return FailureRatio::none;
  if (failures == 0)
    return FailureRatio::zero;
  if (failures >= judged)
    return FailureRatio::all;
  // Integer comparisons: exact at the bucket edges (1 in 10 is "0-0.1", 1 in 2 "0.1-0.5").
  const std::uint64_t f = failures;
  if (f * 10 <= judged)
    return FailureRatio::up_to_10;
  if (f * 2 <= judged)
    return FailureRatio::up_to_50;
  return FailureRatio::below_100;
}

PoolSnapshot take_pool_snapshot(const Engine& engine) {
  const config::Config& cfg = engine.config();
  PoolSnapshot s;
  s.labels = cfg.metrics_history_labels;
  s.per_ip = cfg.metrics_per_ip;
  s.max_series = cfg.metrics_max_series;
  // Labels the config leaves out are folded here: every target to label 0, every status to 0.
  std::vector<std::uint32_t> of_id;
  if (s.labels.target)
    of_id = rank_targets(engine, cfg.history_target_label_cap, s.target_labels);
  const std::size_t width = std::max<std::size_t>(s.target_labels.size(), 1);
  const std::size_t statuses = s.labels.status_code ? kStatuses : 1;
  // (status, target label) -> count, in a table reused across IPs; `touched` lists the
  // cells to copy out (sorted, so the series order is stable) and to clear. 32-bit counts:
  // a ring holds at most max_history_log_each_ip (uint32) entries.
  std::vector<std::uint32_t> table(statuses * width, 0);
  std::vector<std::uint32_t> touched;
  std::vector<std::uint32_t> entries;  // per IP, for the quantiles
  entries.reserve(engine.ips().size());
  s.ips.reserve(engine.ips().size());
  for (const IpRecord& r : engine.ips()) {
    IpNumbers& n = s.ips.emplace_back();
    n.ip = r.egress.ip;
    n.port = std::to_string(r.egress.port);
    n.state = r.state;
    n.consecutive_failures = r.consecutive_failures();
    n.successes = r.counters.successes;
    n.failures = r.counters.failures;
    n.neutrals = r.counters.neutrals;
    n.dial_failures = r.counters.dial_failures;
    n.dials = r.counters.dials;
    n.ejections = r.counters.ejections;
    n.backoff_seconds = backoff_seconds(engine.config(), r.backoff_multiplier);
    for (const strategy::SiteRecord& site : r.sites)
      ++s.site_pairs_by_state[static_cast<std::size_t>(site.state)];

    // The engine keeps the history's counts by (status, target): a few dozen per IP to
    // fold, where walking the history itself was 1,000 entries per IP under the lock.
    std::uint32_t failures = 0;
    std::uint32_t judged = 0;
    std::uint32_t held = 0;
    r.history_tally.for_each(
        [&](std::uint16_t status, pool::Interner::Id target, std::uint32_t count) {
          const std::size_t label = target < of_id.size() ? of_id[target] : 0;
          const std::size_t row = std::min<std::size_t>(status, statuses - 1);
          const std::size_t cell = row * width + label;
          if (table[cell] == 0)
            touched.push_back(static_cast<std::uint32_t>(cell));
          table[cell] += count;
          held += count;
          if (cfg.failure_statuses.contains(status))
            failures += count;
          if (cfg.failure_statuses.contains(status) || (status >= 100 && status < 400))
            judged += count;
        });
    entries.push_back(held);
    n.failure_ratio = failure_ratio(failures, judged);
    ++s.ips_by_failure_ratio[static_cast<std::size_t>(n.failure_ratio)];
    std::sort(touched.begin(), touched.end());
    n.cells_begin = s.cells.size();
    for (const std::uint32_t cell : touched) {
      s.cells.push_back(HistoryCell{static_cast<std::uint16_t>(cell / width),
                                    static_cast<std::uint32_t>(cell % width), table[cell]});
      table[cell] = 0;
    }
    n.cells_end = s.cells.size();
    touched.clear();
  }
  // Nearest-rank quantiles: the smallest count that `q` of the IPs do not exceed.
  for (std::size_t k = 0; k < kHistoryQuantiles.size() && !entries.empty(); ++k) {
    const double rank = std::ceil(kHistoryQuantiles[k].value * static_cast<double>(entries.size()));
    const auto at = entries.begin() + static_cast<std::ptrdiff_t>(std::max(rank, 1.0)) - 1;
    std::nth_element(entries.begin(), at, entries.end());
    s.history_entries[k] = *at;
  }
  for (std::size_t i = 0; i < pool::kIpStateCount; ++i)
    s.ips_by_state[i] = engine.count(static_cast<pool::IpState>(i));
  s.all_unavailable = engine.all_unavailable();
  s.counters = engine.counters();
  // Less the two reserved entries ("" and "(other)") of the interner.
  s.sites_held = static_cast<std::uint32_t>(engine.sites().size() - 2);
  return s;
}

}  // namespace ipm::probe
