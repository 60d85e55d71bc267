// Engine: manual commands, reload, and the read side (snapshot, decisions, lookups).
#include <algorithm>
#include <limits>
#include <tuple>

#include "strategy/engine.hpp"

namespace ipm::strategy {
namespace {

using pool::Interner;
using pool::IpState;
using pool::TimePoint;

Cause manual_cause(TimePoint now) {
  return Cause{.kind = CauseKind::manual, .time = now};
}

}  // namespace

pool::StringIndex::Id Engine::position(const pool::StringIndex& index,
                                       const std::vector<IpRecord>& records, std::string_view ip) {
  return index.find(ip, [&records](pool::StringIndex::Id i) -> const std::string& {
    return records[i].egress.ip;
  });
}

void Engine::add_ip(pool::Egress e) {
  if (position(index_, ips_, e.ip) != pool::StringIndex::kNone)
    return;
  index_.insert(pool::StringIndex::hash(e.ip), static_cast<pool::StringIndex::Id>(ips_.size()));
  ips_.emplace_back(std::move(e), cfg_.max_history_log_each_ip, cfg_.max_cool_down_log_each_ip);
  ips_.back().history_tally.count_targets(cfg_.metrics_history_labels.target, ips_.back().history);
}

void Engine::recount() {
  state_counts_ = {};
  for (const auto& r : ips_)
    ++state_counts_[static_cast<std::size_t>(r.state)];
}

IpRecord* Engine::find_mutable(std::string_view ip) {
  const auto i = position(index_, ips_, ip);
  return i == pool::StringIndex::kNone ? nullptr : &ips_[i];
}

const IpRecord* Engine::find(std::string_view ip) const {
  const auto i = position(index_, ips_, ip);
  return i == pool::StringIndex::kNone ? nullptr : &ips_[i];
}

bool Engine::ban(std::string_view ip, TimePoint until, std::string reason, TimePoint now) {
  IpRecord* r = find_mutable(ip);
  if (r == nullptr)
    return false;
  advance(Scope{*r}, now);
  ++counters_.manual;
  r->clock = std::max(r->clock, now);
  r->streak.clear();
  r->capped = false;
  r->out_until = std::min(r->out_until, now);  // a cooldown cut short no longer counts
  r->cooldown_until = until;
  r->cooldowns.push(
      pool::CooldownRecord{.start = now, .end = until, .reason = pool::CooldownReason::manual});
  const std::string until_text =
      until == TimePoint::max() ? "until unbanned" : "for " + format_duration(until - now);
  transition(Scope{*r}, IpState::banned, now, DecisionKind::manual_ban,
             "manual ban " + until_text + (reason.empty() ? "" : ": " + reason), manual_cause(now),
             until);
  update_pool_flags(now, manual_cause(now));
  return true;
}

// What unban and reset share: the IP's pending time-driven transitions are applied, then
// its failure streak and ban are forgotten so it is available from `now`.
IpRecord* Engine::prepare_manual_release(std::string_view ip, TimePoint now) {
  IpRecord* r = find_mutable(ip);
  if (r == nullptr)
    return nullptr;
  advance(Scope{*r}, now);
  ++counters_.manual;
  r->clock = std::max(r->clock, now);
  r->streak.clear();
  r->capped = false;
  r->out_until = std::min(r->out_until, now);
  return r;
}

bool Engine::unban(std::string_view ip, TimePoint now) {
  IpRecord* r = prepare_manual_release(ip, now);
  if (r == nullptr)
    return false;
  if (r->state != IpState::available)
    r->healthy_since = now;
  transition(Scope{*r}, IpState::available, now, DecisionKind::manual_unban,
             "manual unban (backoff x" + std::to_string(r->backoff_multiplier) + " kept)",
             manual_cause(now));
  update_pool_flags(now, manual_cause(now));
  return true;
}

bool Engine::reset(std::string_view ip, TimePoint now) {
  IpRecord* r = prepare_manual_release(ip, now);
  if (r == nullptr)
    return false;
  r->backoff_multiplier = 1.0;
  r->healthy_since = now;
  transition(Scope{*r}, IpState::available, now, DecisionKind::manual_reset,
             "manual reset: failure count and backoff forgotten", manual_cause(now));
  update_pool_flags(now, manual_cause(now));
  return true;
}

bool Engine::set_weight(std::string_view ip, std::uint32_t weight, TimePoint now) {
  IpRecord* r = find_mutable(ip);
  if (r == nullptr)
    return false;
  ++counters_.manual;
  const std::uint32_t before = r->egress.weight;
  r->weight_override = weight;
  r->egress.weight = weight;
  record(DecisionRecord{.time = now,
                        .ip = r->egress.ip,
                        .kind = DecisionKind::manual_weight,
                        .from = r->state,
                        .to = r->state,
                        .reason = "manual weight " + std::to_string(before) + " -> " +
                                  std::to_string(weight) + (weight == 0 ? " (drained)" : ""),
                        .cause = manual_cause(now)});
  ++selection_version_;
  update_pool_flags(now, manual_cause(now));
  return true;
}

bool Engine::set_disabled(std::string_view ip, bool disabled, TimePoint now) {
  IpRecord* r = find_mutable(ip);
  if (r == nullptr)
    return false;
  ++counters_.manual;
  const bool changed = r->disabled != disabled;
  r->disabled = disabled;
  record(
      DecisionRecord{.time = now,
                     .ip = r->egress.ip,
                     .kind = disabled ? DecisionKind::manual_disable : DecisionKind::manual_enable,
                     .from = r->state,
                     .to = r->state,
                     .reason = std::string(disabled ? "disabled" : "enabled") +
                               (changed ? "" : " (it already was)") +
                               (disabled ? ": no new connections, open ones go on" : ""),
                     .cause = manual_cause(now)});
  ++selection_version_;
  update_pool_flags(now, manual_cause(now));
  return true;
}

bool Engine::set_present(std::string_view ip, bool present, TimePoint now) {
  IpRecord* r = find_mutable(ip);
  if (r == nullptr)
    return false;
  if (r->absent == !present)
    return true;
  r->absent = !present;
  record(DecisionRecord{
      .time = now,
      .ip = r->egress.ip,
      .kind = present ? DecisionKind::address_back : DecisionKind::address_gone,
      .from = r->state,
      .to = r->state,
      .reason = present ? "its address is on the host again" : "its address or link left the host",
      .cause = Cause{.kind = CauseKind::time, .time = now}});
  ++selection_version_;
  return true;
}

std::size_t Engine::reload(std::vector<pool::Egress> egresses, TimePoint now) {
  const Cause cause{.kind = CauseKind::reload, .time = now};
  std::vector<IpRecord> old = std::move(ips_);
  auto old_index = std::move(index_);
  ips_.clear();
  index_.clear();
  std::vector<bool> kept(old.size(), false);
  std::size_t duplicates = 0;
  for (auto& e : egresses) {
    if (position(index_, ips_, e.ip) != pool::StringIndex::kNone) {
      ++duplicates;
      continue;
    }
    // (A duplicate stops above, so no record already moved out of `old` is looked up again.)
    if (const auto i = position(old_index, old, e.ip); i != pool::StringIndex::kNone) {
      kept[i] = true;
      IpRecord& moved = ips_.emplace_back(std::move(old[i]));
      moved.egress = std::move(e);
      if (moved.weight_override)
        moved.egress.weight = *moved.weight_override;
      index_.insert(pool::StringIndex::hash(moved.egress.ip),
                    static_cast<pool::StringIndex::Id>(ips_.size() - 1));
      continue;
    }
    const std::string ip = e.ip;
    add_ip(std::move(e));
    record(DecisionRecord{.time = now,
                          .ip = ip,
                          .kind = DecisionKind::ip_added,
                          .reason = "new in the upstream config",
                          .cause = cause});
  }
  for (std::size_t i = 0; i < old.size(); ++i) {
    if (kept[i])
      continue;
    record(DecisionRecord{.time = now,
                          .ip = old[i].egress.ip,
                          .kind = DecisionKind::ip_removed,
                          .from = old[i].state,
                          .to = old[i].state,
                          .reason = "no longer in the upstream config",
                          .cause = cause});
  }
  recount();
  ++selection_version_;  // ports, weights or membership may have changed
  update_pool_flags(now, cause);
  return duplicates;
}

void Engine::reconfigure(const config::Config& next) {
  config::Config kept = cfg_;
  cfg_ = next;
  cfg_.max_history_log_each_ip = kept.max_history_log_each_ip;
  cfg_.max_cool_down_log_each_ip = kept.max_cool_down_log_each_ip;
  cfg_.decisions_kept = kept.decisions_kept;
  if (next.metrics_history_labels.target != kept.metrics_history_labels.target) {
    for (auto& r : ips_)
      r.history_tally.count_targets(next.metrics_history_labels.target, r.history);
  }
  ++selection_version_;  // probation_share and all_unavailable shape the snapshot
}

std::vector<DecisionRecord> Engine::latest_decisions(std::size_t limit) const {
  const std::size_t n = std::min(limit, decisions_.size());
  return {decisions_.rbegin(), decisions_.rbegin() + static_cast<std::ptrdiff_t>(n)};
}

std::vector<DecisionRecord> Engine::decisions_after(std::uint64_t after) const {
  std::vector<DecisionRecord> out;
  // seq is contiguous inside the deque, so the first wanted one is found by arithmetic.
  if (decisions_.empty() || decisions_.back().seq <= after)
    return out;
  const std::uint64_t first = decisions_.front().seq;
  const std::size_t skip = after >= first ? static_cast<std::size_t>(after - first + 1) : 0;
  out.assign(decisions_.begin() + static_cast<std::ptrdiff_t>(skip), decisions_.end());
  return out;
}

pool::Snapshot Engine::snapshot() const {
  pool::Snapshot s;
  s.version = selection_version_;
  s.all_unavailable = all_unavailable_;
  s.count_by_state = state_counts_;
  s.ips.reserve(ips_.size());
  for (const auto& r : ips_) {
    pool::SnapshotEntry e;
    e.egress = r.egress;
    e.state = r.state;
    // Weight 0 is drained, and so is a disabled egress: open connections go on, new ones go
    // elsewhere. An absent source (its address gone) cannot leave the host at all.
    e.selectable = r.egress.weight > 0 && !r.disabled && !r.absent &&
                   (r.state == IpState::available || r.state == IpState::probation);
    e.share = r.state == IpState::available   ? 1.0
              : r.state == IpState::probation ? cfg_.probation_share
                                              : 0.0;
    s.ips.push_back(std::move(e));
  }
  if (all_unavailable_ && cfg_.all_unavailable == config::AllUnavailable::least_bad) {
    // Least bad = cooling with the smallest backoff multiplier: the IPs that have not yet
    // failed a probation. Manually banned IPs stay out: the operator's word wins.
    double best = std::numeric_limits<double>::infinity();
    for (const auto& r : ips_) {
      if (r.state == IpState::cooling)
        best = std::min(best, r.backoff_multiplier);
    }
    for (std::size_t i = 0; i < ips_.size(); ++i) {
      if (ips_[i].state == IpState::cooling && ips_[i].backoff_multiplier == best &&
          ips_[i].egress.weight > 0 && !ips_[i].disabled && !ips_[i].absent) {
        s.ips[i].selectable = true;
        s.ips[i].share = 1.0;
        s.least_bad_fallback = true;
      }
    }
  }
  // Per-site exclusions: the (site, IP) pairs out or on probation, grouped by site.
  std::vector<std::tuple<Interner::Id, std::uint32_t, float>> pairs;
  for (std::size_t i = 0; i < ips_.size(); ++i) {
    for (const auto& site : ips_[i].sites) {
      if (site.state == IpState::available)
        continue;
      const float share =
          site.state == IpState::probation ? static_cast<float>(cfg_.probation_share) : 0.0F;
      pairs.emplace_back(site.site, static_cast<std::uint32_t>(i), share);
    }
  }
  std::sort(pairs.begin(), pairs.end());
  std::vector<pool::SiteRules> rules;
  for (const auto& [site, ip, share] : pairs) {
    if (rules.empty() || rules.back().site != sites_.lookup(site))
      rules.push_back(pool::SiteRules{.site = std::string(sites_.lookup(site)), .rules = {}});
    rules.back().rules.push_back(pool::SiteRule{.ip = ip, .share = share});
  }
  s.set_sites(std::move(rules));
  return s;
}

}  // namespace ipm::strategy
