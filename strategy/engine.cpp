#include "strategy/engine.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace ipm::strategy {
namespace {

using pool::Interner;
using pool::IpState;
using pool::TimePoint;

std::uint64_t mix(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// A number in [0, 1) that depends only on the seed (IP, site) and the instant, so a replay of
// the same events draws the same jitter.
double jitter_draw(std::string_view seed, TimePoint at) {
  std::uint64_t h = 0xCBF29CE484222325ULL;  // FNV-1a
  for (char c : seed)
    h = (h ^ static_cast<unsigned char>(c)) * 0x100000001B3ULL;
  h = mix(h ^ static_cast<std::uint64_t>(pool::to_ns(at)));
  return static_cast<double>(h >> 11) * 0x1.0p-53;
}

// A history entry holds 10 bits of status; the scanner reads 100-599.
std::uint16_t clamp_status(int s) {
  return static_cast<std::uint16_t>(std::clamp(s, 0, int{pool::PackedHistoryEntry::kMaxStatus}));
}

bool is_site(Interner::Id id) {
  return id != Interner::kEmpty && id != Interner::kOverflow;
}

std::string describe(const Cause& c) {
  switch (c.kind) {
    case CauseKind::log_event:
      if (c.upstream_status > 0 && c.upstream_status != c.status)
        return "status " + std::to_string(c.status) + ", upstream " +
               std::to_string(c.upstream_status);
      return "status " + std::to_string(c.status);
    case CauseKind::dial_outcome:
      return "dial " + std::string(to_string(c.dial)) +
             (c.upstream_code >= 0 ? " " + std::to_string(c.upstream_code) : "");
    case CauseKind::time:
      return "time";
    case CauseKind::manual:
      return "operator";
    case CauseKind::reload:
      return "reload";
  }
  return "?";
}

}  // namespace

Engine::Engine(const config::Config& cfg, std::vector<pool::Egress> egresses, TimePoint now)
    : cfg_(cfg), grouper_(cfg.target_grouping) {
  for (auto& e : egresses)
    add_ip(std::move(e));
  recount();
  all_unavailable_ = state_counts_[0] + state_counts_[2] == 0;
  (void)now;  // the initial pool is available "since always": replayed events are not late
}

void Engine::apply(const pool::LogEvent& e) {
  apply(e, pool::StringIndex::hash(e.ip));
}

void Engine::apply(std::span<const pool::LogEvent> batch) {
  // A pipeline of three: while line i is applied, the record of line i + 1 and the index
  // slot of line i + 2 are on their way. At 10,000 IPs each is a cache miss that a single
  // apply() waits for in turn; here they arrive while the line before is worked on.
  // (The record is prefetched at the index's likely answer; apply() still compares.)
  const std::size_t n = batch.size();
  std::uint32_t next = n > 0 ? pool::StringIndex::hash(batch[0].ip) : 0;
  std::uint32_t after = n > 1 ? pool::StringIndex::hash(batch[1].ip) : 0;
  if (n > 1)
    index_.prefetch(after);
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint32_t h = next;
    next = after;
    if (i + 2 < n) {
      after = pool::StringIndex::hash(batch[i + 2].ip);
      index_.prefetch(after);
    }
    if (i + 1 < n) {
      if (const auto k = index_.likely(next); k != pool::StringIndex::kNone)
        ips_[k].prefetch_event_lines();
    }
    apply(batch[i], h);
  }
}

void Engine::apply(const pool::LogEvent& e, std::uint32_t ip_hash) {
  ++counters_.events;
  IpRecord* r = find_mutable(e.ip, ip_hash);
  if (r == nullptr) {
    ++counters_.unknown_ip_events;
    return;
  }
  const Interner::Id target = intern_target(e.target);
  r->history_tally.push(r->history, pool::HistoryEntry{
                                        .time_ns = pool::to_ns(e.time),
                                        .key = intern_key(e.key),
                                        .target = target,
                                        .status = clamp_status(e.status),
                                        .upstream_status = clamp_status(e.upstream_status),
                                        .latency_seconds = e.latency_seconds,
                                    });
  ++r->counters.events;
  const Outcome o = classify(e, cfg_.failure_statuses);
  switch (o) {
    case Outcome::success:
      ++r->counters.successes;
      ++counters_.successes;
      break;
    case Outcome::failure:
      ++r->counters.failures;
      ++counters_.failures;
      break;
    case Outcome::neutral:
      ++r->counters.neutrals;
      ++counters_.neutrals;
      break;
  }
  // The site is looked up only when it can matter: a failure that is not the egress's own
  // (nginx answered without an upstream status), or a success on an IP that tracks sites.
  // Lines of sites that never failed on the IP cost nothing more than before.
  Interner::Id site = Interner::kEmpty;
  const bool egress_own = o == Outcome::failure && e.upstream_status == 0;
  if ((o == Outcome::failure && !egress_own) || (o == Outcome::success && !r->sites.empty()))
    site = site_of_target(target, e.target);
  const Cause cause{.kind = CauseKind::log_event,
                    .time = e.time,
                    .status = e.status,
                    .upstream_status = e.upstream_status};
  on_outcome(*r, o, e.time, cause, false, site);
  update_pool_flags(e.time, cause);
}

void Engine::apply(const pool::DialOutcome& d) {
  ++counters_.dial_outcomes;
  IpRecord* r = find_mutable(d.ip);
  if (r == nullptr) {
    ++counters_.unknown_ip_events;
    return;
  }
  ++r->counters.dials;
  Outcome o = classify(d);
  // A refusal of the destination's counts against its site only; with no site to charge it
  // says nothing of the egress. A success reaches the destination's site like a log line's.
  const bool site_failure = o == Outcome::failure && blame(d) == Blame::site;
  Interner::Id site = Interner::kEmpty;
  if (site_failure || (o == Outcome::success && !r->sites.empty()))
    site = site_of_text(d.target);
  if (site_failure && !is_site(site))
    o = Outcome::neutral;
  if (o == Outcome::failure && !site_failure)
    ++r->counters.dial_failures;
  if (o == Outcome::success)
    ++r->counters.successes;
  const Cause cause{.kind = CauseKind::dial_outcome,
                    .time = d.time,
                    .dial = d.result,
                    .upstream_code = d.upstream_code};
  on_outcome(*r, o, d.time, cause, true, site);
  update_pool_flags(d.time, cause);
}

void Engine::tick(TimePoint now) {
  for (auto& r : ips_)
    advance_all(r, now);
  update_pool_flags(now, Cause{.kind = CauseKind::time, .time = now});
}

void Engine::advance(Scope s, TimePoint t) {
  Health& h = s.health();
  if (h.state == IpState::cooling && h.cooldown_until <= t) {
    to_probation(s, h.cooldown_until,
                 "cooldown of " + format_duration(h.cooldown_until - h.out_since) + " ended");
  } else if (h.state == IpState::banned && h.cooldown_until <= t) {
    to_probation(s, h.cooldown_until, "manual ban ended");
  }
}

void Engine::advance_all(IpRecord& r, TimePoint t) {
  advance(Scope{r}, t);
  for (auto& site : r.sites)
    advance(Scope{r, &site}, t);
}

void Engine::decay(Scope s, TimePoint t) {
  Health& h = s.health();
  const auto decay = cfg_.backoff_decay_after;
  if (h.state != IpState::available || decay <= decltype(decay)::zero())
    return;
  while (h.backoff_multiplier > 1.0 && h.healthy_since + decay <= t) {
    h.backoff_multiplier = std::max(1.0, h.backoff_multiplier / 2.0);
    h.healthy_since += decay;
    record(DecisionRecord{
        .time = h.healthy_since,
        .ip = s.ip.egress.ip,
        .site = s.site != nullptr ? std::string(sites_.lookup(s.site->site)) : std::string(),
        .kind = DecisionKind::backoff_decayed,
        .from = h.state,
        .to = h.state,
        .reason = "healthy for " + format_duration(decay) + ": backoff multiplier halved",
        .cause = Cause{.kind = CauseKind::time, .time = h.healthy_since},
        .backoff_multiplier = h.backoff_multiplier});
  }
}

void Engine::on_outcome(IpRecord& r, Outcome o, TimePoint t, const Cause& cause, bool dial,
                        Interner::Id site) {
  // Every scope of the IP, its sites too: a site whose cooldown ended is on probation from
  // then on, whichever of the IP's lines (or tick) notices it first.
  advance_all(r, t);
  // An event older than the last transition describes the previous state; one that arrives
  // while the IP is out of traffic (or in only as the least-bad fallback) changes nothing.
  if (t < r.state_since || r.out()) {
    ++r.counters.ignored_events;
    return;
  }
  r.clock = std::max(r.clock, t);
  const TimePoint now = r.clock;
  // Decay is applied here, on the IP's own event time, and not in tick(): a tick running
  // ahead of lines still to be read must not change how those lines are judged.
  decay(Scope{r}, now);
  // Healthy site records are forgotten on the IP's own events (every quarter window of its
  // clock), never on ticks: live and replayed lines then forget, and so evict, the same ones.
  if (!r.sites.empty() && r.clock >= r.sites_pruned_at + cfg_.failure_window / 4) {
    r.sites_pruned_at = r.clock;
    forget_healthy_sites(r);
  }
  if (o == Outcome::neutral)
    return;
  if (o == Outcome::failure && is_site(site)) {
    on_site_outcome(r, o, t, cause, site);
    return;
  }
  if (o == Outcome::success) {
    if (r.state == IpState::probation) {
      r.streak.clear();
      r.healthy_since = now;
      ++r.counters.recoveries;
      ++counters_.recoveries;
      transition(Scope{r}, IpState::available, now, DecisionKind::recover,
                 "first success on probation (" + describe(cause) + ")", cause);
    } else {
      r.streak.clear();
      r.capped = false;
    }
    if (is_site(site))
      on_site_outcome(r, o, t, cause, site);
    return;
  }
  if (r.state == IpState::probation) {
    trip(Scope{r}, now, cause, true);
    return;
  }
  add_failure(Scope{r}, t, now, cause, dial);
}

void Engine::add_failure(Scope s, TimePoint t, TimePoint now, const Cause& cause, bool dial) {
  Health& h = s.health();
  const auto window = cfg_.failure_window;
  std::erase_if(h.streak, [&](TimePoint f) { return f + window < now; });
  h.streak.push_back(t);
  h.streak_ends_with_dial = dial;
  const std::size_t threshold = std::max<std::uint32_t>(cfg_.consecutive_failure, 1);
  if (h.streak.size() > threshold)
    h.streak.erase(h.streak.begin(), h.streak.end() - static_cast<std::ptrdiff_t>(threshold));
  if (h.streak.size() >= threshold)
    trip(s, now, cause, false);
}

void Engine::on_site_outcome(IpRecord& r, Outcome o, TimePoint t, const Cause& cause,
                             Interner::Id site) {
  SiteRecord* s = nullptr;
  if (o == Outcome::failure) {
    s = &site_record(r, site, t);
  } else {
    s = find_site(r, site);
    if (s == nullptr)
      return;  // a success of a site that never failed here: nothing to remember
  }
  const Scope scope{r, s};
  advance(scope, t);
  if (t < s->state_since || s->out()) {
    ++r.counters.ignored_events;
    return;
  }
  s->clock = std::max(s->clock, t);
  const TimePoint now = s->clock;
  decay(scope, now);
  if (o == Outcome::success) {
    s->last_success = std::max(s->last_success, now);
    if (s->state == IpState::probation) {
      s->streak.clear();
      s->healthy_since = now;
      ++counters_.site_recoveries;
      transition(scope, IpState::available, now, DecisionKind::recover,
                 "first success on probation (" + describe(cause) + ")", cause);
    } else {
      s->streak.clear();
      s->capped = false;
    }
    forget_if_healthy(r, *s);
    return;
  }
  ++s->failures;
  ++r.counters.site_failures;
  ++counters_.site_failures;
  s->last_failure = std::max(s->last_failure, now);
  if (s->state == IpState::probation)
    trip(scope, now, cause, true);
  else
    add_failure(scope, t, now, cause, false);
  check_many_sites(r, now, cause);
}

void Engine::check_many_sites(IpRecord& r, TimePoint now, const Cause& cause) {
  const std::uint32_t threshold = cfg_.failing_sites_to_eject;
  if (threshold < 2 || r.out() || r.sites.size() < threshold)
    return;
  // Failing: a failure inside the window, after the IP's own last transition (an IP back
  // from cooling starts afresh), and no success of the site since.
  const TimePoint since = std::max(now - cfg_.failure_window, r.state_since);
  std::size_t failing = 0;
  for (const auto& s : r.sites) {
    if (s.last_failure >= since && s.last_success < s.last_failure)
      ++failing;
  }
  if (failing < threshold)
    return;
  trip(Scope{r}, now, cause, r.state == IpState::probation,
       "failures on " + std::to_string(failing) + " sites within " +
           format_duration(cfg_.failure_window));
}

std::size_t Engine::ejection_cap() const {
  if (cfg_.max_ejected_percent == 0)
    return 0;
  return std::max<std::size_t>(1, ips_.size() * cfg_.max_ejected_percent / 100);
}

std::size_t Engine::out_at(TimePoint t, const IpRecord& except) const {
  // Counted on event time, not on current state, so the answer does not depend on whether a
  // tick already released an IP whose cooldown covers `t`.
  std::size_t out = 0;
  for (const auto& r : ips_) {
    if (&r == &except)
      continue;
    if ((r.state == IpState::cooling || r.state == IpState::probation) && r.out_since <= t &&
        t < r.out_until)
      ++out;
  }
  return out;
}

std::size_t Engine::out_for_site_at(TimePoint t, Interner::Id site, const IpRecord& except) const {
  const auto out_at_t = [t](const Health& h) {
    return (h.state == IpState::cooling || h.state == IpState::probation) && h.out_since <= t &&
           t < h.out_until;
  };
  std::size_t out = 0;
  for (const auto& r : ips_) {
    if (&r == &except)
      continue;
    if (out_at_t(r)) {
      ++out;
      continue;
    }
    if (const SiteRecord* s = r.find_site(site); s != nullptr && out_at_t(*s))
      ++out;
  }
  return out;
}

void Engine::trip(Scope s, TimePoint now, const Cause& cause, bool from_probation,
                  std::string why) {
  Health& h = s.health();
  IpRecord& r = s.ip;
  const std::size_t cap = ejection_cap();
  const std::size_t out =
      s.site != nullptr ? out_for_site_at(now, s.site->site, r) : out_at(now, r);
  if (out >= cap) {
    if (s.site != nullptr) {
      ++counters_.site_ejections_capped;
    } else {
      ++r.counters.ejections_capped;
      ++counters_.ejections_capped;
    }
    if (!h.capped) {  // one record per capped streak, not one per failure
      h.capped = true;
      transition(s, h.state, now, DecisionKind::eject_capped,
                 "would eject (" + (why.empty() ? describe(cause) : why) + ") but " +
                     std::to_string(out) + " of " + std::to_string(ips_.size()) + " IPs are out" +
                     (s.site != nullptr ? " for this site" : "") + " (max_ejected_percent " +
                     std::to_string(cfg_.max_ejected_percent) + ")",
                 cause);
    }
    return;
  }
  if (from_probation) {
    const double most =
        std::max(1.0, static_cast<double>(cfg_.max_cool_down.count()) /
                          static_cast<double>(std::max<std::int64_t>(cfg_.cool_down.count(), 1)));
    h.backoff_multiplier = std::min(h.backoff_multiplier * 2.0, most);
  }
  const auto cooldown = cooldown_for(jitter_seed(s), now, h.backoff_multiplier);
  const TimePoint until = now + std::chrono::duration_cast<pool::Clock::duration>(cooldown);
  const auto reason_kind = from_probation            ? pool::CooldownReason::probation_failure
                           : !why.empty()            ? pool::CooldownReason::many_sites
                           : h.streak_ends_with_dial ? pool::CooldownReason::dial_failures
                                                     : pool::CooldownReason::failures;
  h.cooldown_until = until;
  h.out_since = now;
  h.out_until = until;
  h.capped = false;
  const std::size_t failures = h.streak.size();
  h.streak.clear();
  std::string reason;
  if (from_probation) {
    reason = "failed on probation (" + (why.empty() ? describe(cause) : why) + "): cooldown " +
             format_duration(cooldown) + " at backoff x" + std::to_string(h.backoff_multiplier);
  } else if (!why.empty()) {
    reason = why + " (last: " + describe(cause) + "): cooldown " + format_duration(cooldown);
  } else {
    reason = std::to_string(failures) + " consecutive failures within " +
             format_duration(cfg_.failure_window) + " (last: " + describe(cause) + "): cooldown " +
             format_duration(cooldown);
  }
  if (s.site != nullptr) {
    s.site->reason = reason_kind;
    ++s.site->ejections;
    ++r.counters.site_ejections;
    ++(from_probation ? counters_.site_ejections_probation : counters_.site_ejections);
  } else {
    r.cooldowns.push(pool::CooldownRecord{.start = now, .end = until, .reason = reason_kind});
    ++r.counters.ejections;
    ++(from_probation                                       ? counters_.ejections_probation
       : reason_kind == pool::CooldownReason::many_sites    ? counters_.ejections_sites
       : reason_kind == pool::CooldownReason::dial_failures ? counters_.ejections_dial
                                                            : counters_.ejections_failures);
  }
  transition(s, IpState::cooling, now,
             from_probation ? DecisionKind::probation_failed : DecisionKind::eject,
             std::move(reason), cause, until);
}

void Engine::to_probation(Scope s, TimePoint at, std::string reason) {
  Health& h = s.health();
  h.streak.clear();
  h.capped = false;
  if (s.site != nullptr) {
    ++counters_.site_probations;
  } else {
    ++s.ip.counters.probations;
    ++counters_.probations;
  }
  transition(s, IpState::probation, at, DecisionKind::probation, std::move(reason),
             Cause{.kind = CauseKind::time, .time = at});
}

std::string Engine::jitter_seed(Scope s) const {
  if (s.site == nullptr)
    return s.ip.egress.ip;
  return s.ip.egress.ip + " " + std::string(sites_.lookup(s.site->site));
}

pool::Duration Engine::cooldown_for(std::string_view ip, TimePoint at, double multiplier) const {
  const double base_ns = static_cast<double>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(cfg_.cool_down).count());
  const double cap_ns = static_cast<double>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(cfg_.max_cool_down).count());
  double ns = base_ns * multiplier;
  if (cap_ns >= base_ns)
    ns = std::min(ns, cap_ns);
  ns *= 1.0 + cfg_.cool_down_jitter * (2.0 * jitter_draw(ip, at) - 1.0);
  return pool::Duration(static_cast<std::int64_t>(std::max(ns, 0.0)));
}

void Engine::transition(Scope s, IpState to, TimePoint at, DecisionKind kind, std::string reason,
                        const Cause& cause, TimePoint until) {
  Health& h = s.health();
  const IpState from = h.state;
  if (from != to) {
    if (s.site == nullptr) {
      --state_counts_[static_cast<std::size_t>(from)];
      ++state_counts_[static_cast<std::size_t>(to)];
    }
    h.state = to;
    h.state_since = at;
    if (s.site == nullptr)
      selection_changed(s.ip);
    else
      site_rules_changed();
  }
  h.last_reason = reason;
  h.last_decision = kind;
  record(DecisionRecord{
      .time = at,
      .ip = s.ip.egress.ip,
      .site = s.site != nullptr ? std::string(sites_.lookup(s.site->site)) : std::string(),
      .kind = kind,
      .from = from,
      .to = to,
      .reason = std::move(reason),
      .cause = cause,
      .until = until,
      .backoff_multiplier = h.backoff_multiplier});
}

DecisionRecord& Engine::record(DecisionRecord d) {
  d.seq = next_seq_++;
  const std::size_t kept = std::max<std::uint32_t>(cfg_.decisions_kept, 1);
  while (decisions_.size() >= kept)
    decisions_.pop_front();
  return decisions_.emplace_back(std::move(d));
}

void Engine::update_pool_flags(TimePoint at, const Cause& cause) {
  auto nothing_selectable = [this] {
    return count(IpState::available) + count(IpState::probation) == 0;
  };
  bool none = nothing_selectable();
  if (none && !ips_.empty()) {
    // Cooldowns end lazily; before declaring the pool empty, end those already over.
    for (auto& r : ips_)
      advance(Scope{r}, at);
    none = nothing_selectable();
  }
  if (none == all_unavailable_)
    return;
  all_unavailable_ = none;
  selection_changed_all();  // the all_unavailable flag, and the least_bad fallback
  ++counters_.all_unavailable_transitions;
  std::string reason;
  if (none) {
    reason = std::to_string(count(IpState::cooling)) + " cooling, " +
             std::to_string(count(IpState::banned)) + " banned: policy " +
             std::string(config::to_string(cfg_.all_unavailable)) +
             (cfg_.all_unavailable == config::AllUnavailable::least_bad
                  ? " (the cooling IPs with the smallest backoff take traffic)"
                  : " (connections are refused)");
  } else {
    reason = std::to_string(count(IpState::available)) + " available, " +
             std::to_string(count(IpState::probation)) + " on probation";
  }
  record(DecisionRecord{
      .time = at,
      .ip = {},
      .kind = none ? DecisionKind::all_unavailable_enter : DecisionKind::all_unavailable_leave,
      .reason = std::move(reason),
      .cause = cause});
}

std::uint32_t Engine::count(IpState s) const {
  return state_counts_[static_cast<std::size_t>(s)];
}

}  // namespace ipm::strategy
