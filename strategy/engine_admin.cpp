// Engine: manual commands, reload, and the read side (snapshot, decisions, lookups).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
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
  return index.find(ip, [&records](pool::StringIndex::Id i) { return records[i].ip(); });
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
  return find_mutable(ip, pool::StringIndex::hash(ip));
}

IpRecord* Engine::find_mutable(std::string_view ip, std::uint32_t hash) {
  // The candidate's lines are asked for before its key is compared: with a large pool the
  // record is a miss, and its event fields are wanted anyway when the key matches.
  const auto i = index_.find(ip, hash, [this](pool::StringIndex::Id k) {
    ips_[k].prefetch_event_lines();
    return ips_[k].ip();
  });
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
  r->egress_changed();
  record(DecisionRecord{.time = now,
                        .ip = r->egress.ip,
                        .kind = DecisionKind::manual_weight,
                        .from = r->state,
                        .to = r->state,
                        .reason = "manual weight " + std::to_string(before) + " -> " +
                                  std::to_string(weight) + (weight == 0 ? " (drained)" : ""),
                        .cause = manual_cause(now)});
  selection_changed(*r);
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
  selection_changed(*r);
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
  selection_changed(*r);
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
      moved.egress_changed();
      index_.insert(pool::StringIndex::hash(moved.egress.ip),
                    static_cast<pool::StringIndex::Id>(ips_.size() - 1));
      continue;
    }
    const std::string ip = e.ip;
    add_ip(std::move(e));
    record(DecisionRecord{.time = now,
                          .ip = ip,
                          .kind = DecisionKind::ip_added,
                          .reason = "new in the config",
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
                          .reason = "no longer in the config",
                          .cause = cause});
  }
  recount();
  selection_changed_all();  // ports, weights or membership may have changed
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
  selection_changed_all();  // probation_share and all_unavailable shape the snapshot
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

void Engine::selection_changed(const IpRecord& r) {
  ++selection_version_;
  const auto c = static_cast<std::size_t>(&r - ips_.data()) / pool::SnapshotEntries::kChunk;
  if (c >= dirty_chunks_.size())
    dirty_chunks_.resize(c + 1, false);
  dirty_chunks_[c] = true;
}

void Engine::selection_changed_all() {
  ++selection_version_;
  all_dirty_ = true;
  site_rules_dirty_ = true;
}

void Engine::site_rules_changed() {
  ++selection_version_;
  site_rules_dirty_ = true;
}

pool::SnapshotEntry Engine::snapshot_entry(const IpRecord& r, bool least_bad, double best) const {
  pool::SnapshotEntry e;
  e.egress = r.egress;
  e.state = r.state;
  // Weight 0 is drained, and so is a disabled egress: open connections go on, new ones go
  // elsewhere. An absent source (its address gone) cannot leave the host at all.
  const bool may = r.egress.weight > 0 && !r.disabled && !r.absent;
  e.selectable = may && (r.state == IpState::available || r.state == IpState::probation);
  e.share = r.state == IpState::available   ? 1.0
            : r.state == IpState::probation ? cfg_.probation_share
                                            : 0.0;
  // Least bad = cooling with the smallest backoff multiplier: the IPs that have not yet
  // failed a probation. Manually banned IPs stay out: the operator's word wins.
  if (least_bad && may && r.state == IpState::cooling && r.backoff_multiplier == best) {
    e.selectable = true;
    e.share = 1.0;
  }
  e.active = r.target->active;
  e.target = r.target;
  return e;
}

std::vector<pool::SiteRules> Engine::site_rules() const {
  // The (site, IP) pairs out or on probation, grouped by site.
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
  return rules;
}

pool::Snapshot Engine::snapshot() const {
  pool::Snapshot s;
  s.version = selection_version_;
  s.all_unavailable = all_unavailable_;
  s.count_by_state = state_counts_;
  const bool least_bad =
      all_unavailable_ && cfg_.all_unavailable == config::AllUnavailable::least_bad;
  double best = std::numeric_limits<double>::infinity();
  if (least_bad) {
    for (const auto& r : ips_) {
      if (r.state == IpState::cooling)
        best = std::min(best, r.backoff_multiplier);
    }
  }
  // The fallback reads every cooling IP's backoff: while it is or was in force, and after a
  // reload or a config change, every chunk is built again. Otherwise only the marked ones.
  const bool all = all_dirty_ || least_bad || built_least_bad_ || built_.size() != ips_.size();
  constexpr std::size_t kChunk = pool::SnapshotEntries::kChunk;
  for (std::size_t c = 0, begin = 0; begin < ips_.size(); ++c, begin += kChunk) {
    if (!all && !(c < dirty_chunks_.size() && dirty_chunks_[c])) {
      s.ips.push_chunk(built_.chunk(c));
      continue;
    }
    const std::size_t end = std::min(begin + kChunk, ips_.size());
    auto chunk = std::make_shared<pool::SnapshotEntries::Chunk>();
    chunk->reserve(end - begin);
    for (std::size_t i = begin; i < end; ++i) {
      chunk->push_back(snapshot_entry(ips_[i], least_bad, best));
      if (chunk->back().selectable && ips_[i].state == IpState::cooling)
        s.least_bad_fallback = true;
    }
    s.ips.push_chunk(std::move(chunk));
  }
  built_ = s.ips;
  built_least_bad_ = least_bad;
  all_dirty_ = false;
  dirty_chunks_.assign(dirty_chunks_.size(), false);
  if (site_rules_dirty_) {
    site_rules_ = site_rules();
    site_rules_dirty_ = false;
  }
#ifndef NDEBUG
  check_snapshot(s, least_bad, best);
#endif
  s.set_sites(site_rules_);
  return s;
}

#ifndef NDEBUG
// Debug builds (every test) check the incremental snapshot against one built from scratch:
// a change that matters for selection but marked nothing fails here, not in production.
void Engine::check_snapshot(const pool::Snapshot& s, bool least_bad, double best) const {
  for (std::size_t i = 0; i < ips_.size(); ++i) {
    const pool::SnapshotEntry want = snapshot_entry(ips_[i], least_bad, best);
    const pool::SnapshotEntry& got = s.ips[i];
    if (!(got.egress == want.egress && got.state == want.state &&
          got.selectable == want.selectable && got.share == want.share &&
          got.target == want.target && got.target->egress == ips_[i].egress)) {
      std::fprintf(stderr, "Engine::snapshot: entry %zu (%s) is stale\n", i,
                   ips_[i].egress.ip.c_str());
      std::abort();
    }
  }
  const std::vector<pool::SiteRules> want = site_rules();
  bool same = want.size() == site_rules_.size();
  for (std::size_t k = 0; same && k < want.size(); ++k) {
    same =
        want[k].site == site_rules_[k].site && want[k].rules.size() == site_rules_[k].rules.size();
    for (std::size_t j = 0; same && j < want[k].rules.size(); ++j)
      same = want[k].rules[j].ip == site_rules_[k].rules[j].ip &&
             want[k].rules[j].share == site_rules_[k].rules[j].share;
  }
  if (!same) {
    std::fprintf(stderr, "Engine::snapshot: the per-site rules are stale\n");
    std::abort();
  }
}
#endif

}  // namespace ipm::strategy
