#include "strategy/engine.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace ipm::strategy {
namespace {

using pool::IpState;
using pool::TimePoint;

std::uint64_t mix(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// A number in [0, 1) that depends only on the IP and the instant, so a replay of the same
// events draws the same jitter.
double jitter_draw(std::string_view ip, TimePoint at) {
  std::uint64_t h = 0xCBF29CE484222325ULL;  // FNV-1a
  for (char c : ip)
    h = (h ^ static_cast<unsigned char>(c)) * 0x100000001B3ULL;
  h = mix(h ^ static_cast<std::uint64_t>(pool::to_ns(at)));
  return static_cast<double>(h >> 11) * 0x1.0p-53;
}

std::uint16_t clamp_status(int s) {
  return static_cast<std::uint16_t>(std::clamp(s, 0, 65535));
}

std::string describe(const Cause& c) {
  switch (c.kind) {
    case CauseKind::log_event:
      if (c.upstream_status > 0 && c.upstream_status != c.status)
        return "status " + std::to_string(c.status) + ", upstream " +
               std::to_string(c.upstream_status);
      return "status " + std::to_string(c.status);
    case CauseKind::dial_outcome:
      return "dial " + std::string(to_string(c.dial));
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
    : cfg_(cfg) {
  for (auto& e : egresses)
    add_ip(std::move(e));
  recount();
  all_unavailable_ = state_counts_[0] + state_counts_[2] == 0;
  (void)now;  // the initial pool is available "since always": replayed events are not late
}

void Engine::apply(const pool::LogEvent& e) {
  ++counters_.events;
  IpRecord* r = find_mutable(e.ip);
  if (r == nullptr) {
    ++counters_.unknown_ip_events;
    return;
  }
  r->history_tally.push(r->history, pool::HistoryEntry{
                                        .time_ns = pool::to_ns(e.time),
                                        .key = keys_.intern(e.key),
                                        .target = targets_.intern(e.target),
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
  const Cause cause{.kind = CauseKind::log_event,
                    .time = e.time,
                    .status = e.status,
                    .upstream_status = e.upstream_status};
  on_outcome(*r, o, e.time, cause, false);
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
  const Outcome o = classify(d);
  if (o == Outcome::failure)
    ++r->counters.dial_failures;
  const Cause cause{.kind = CauseKind::dial_outcome, .time = d.time, .dial = d.result};
  on_outcome(*r, o, d.time, cause, true);
  update_pool_flags(d.time, cause);
}

void Engine::tick(TimePoint now) {
  for (auto& r : ips_)
    advance(r, now);
  update_pool_flags(now, Cause{.kind = CauseKind::time, .time = now});
}

void Engine::advance(IpRecord& r, TimePoint t) {
  if (r.state == IpState::cooling && r.cooldown_until <= t) {
    to_probation(r, r.cooldown_until,
                 "cooldown of " + format_duration(r.cooldown_until - r.out_since) + " ended");
  } else if (r.state == IpState::banned && r.cooldown_until <= t) {
    to_probation(r, r.cooldown_until, "manual ban ended");
  }
}

void Engine::decay(IpRecord& r, TimePoint t) {
  const auto decay = cfg_.backoff_decay_after;
  if (r.state != IpState::available || decay <= decltype(decay)::zero())
    return;
  while (r.backoff_multiplier > 1.0 && r.healthy_since + decay <= t) {
    r.backoff_multiplier = std::max(1.0, r.backoff_multiplier / 2.0);
    r.healthy_since += decay;
    record(DecisionRecord{
        .time = r.healthy_since,
        .ip = r.egress.ip,
        .kind = DecisionKind::backoff_decayed,
        .from = r.state,
        .to = r.state,
        .reason = "healthy for " + format_duration(decay) + ": backoff multiplier halved",
        .cause = Cause{.kind = CauseKind::time, .time = r.healthy_since},
        .backoff_multiplier = r.backoff_multiplier});
  }
}

void Engine::on_outcome(IpRecord& r, Outcome o, TimePoint t, const Cause& cause, bool dial) {
  advance(r, t);
  // An event older than the last transition describes the previous state; one that arrives
  // while the IP is out of traffic (or in only as the least-bad fallback) changes nothing.
  if (t < r.state_since || r.state == IpState::cooling || r.state == IpState::banned) {
    ++r.counters.ignored_events;
    return;
  }
  r.clock = std::max(r.clock, t);
  const TimePoint now = r.clock;
  // Decay is applied here, on the IP's own event time, and not in tick(): a tick running
  // ahead of lines still to be read must not change how those lines are judged.
  decay(r, now);
  if (o == Outcome::neutral)
    return;
  switch (r.state) {
    case IpState::cooling:
    case IpState::banned:
      return;
    case IpState::probation:
      if (o == Outcome::success) {
        r.streak.clear();
        r.healthy_since = now;
        ++r.counters.recoveries;
        ++counters_.recoveries;
        transition(r, IpState::available, now, DecisionKind::recover,
                   "first success on probation (" + describe(cause) + ")", cause);
      } else {
        trip(r, now, cause, true);
      }
      return;
    case IpState::available:
      break;
  }
  if (o == Outcome::success) {
    r.streak.clear();
    r.capped = false;
    return;
  }
  const auto window = cfg_.failure_window;
  std::erase_if(r.streak, [&](TimePoint f) { return f + window < now; });
  r.streak.push_back(t);
  r.streak_ends_with_dial = dial;
  const std::size_t threshold = std::max<std::uint32_t>(cfg_.consecutive_failure, 1);
  if (r.streak.size() > threshold)
    r.streak.erase(r.streak.begin(), r.streak.end() - static_cast<std::ptrdiff_t>(threshold));
  if (r.streak.size() >= threshold)
    trip(r, now, cause, false);
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

void Engine::trip(IpRecord& r, TimePoint now, const Cause& cause, bool from_probation) {
  const std::size_t cap = ejection_cap();
  const std::size_t out = out_at(now, r);
  if (out >= cap) {
    ++r.counters.ejections_capped;
    ++counters_.ejections_capped;
    if (!r.capped) {  // one record per capped streak, not one per failure
      r.capped = true;
      transition(r, r.state, now, DecisionKind::eject_capped,
                 "would eject (" + describe(cause) + ") but " + std::to_string(out) + " of " +
                     std::to_string(ips_.size()) + " IPs are out (max_ejected_percent " +
                     std::to_string(cfg_.max_ejected_percent) + ")",
                 cause);
    }
    return;
  }
  if (from_probation) {
    const double most =
        std::max(1.0, static_cast<double>(cfg_.max_cool_down.count()) /
                          static_cast<double>(std::max<std::int64_t>(cfg_.cool_down.count(), 1)));
    r.backoff_multiplier = std::min(r.backoff_multiplier * 2.0, most);
  }
  const auto cooldown = cooldown_for(r.egress.ip, now, r.backoff_multiplier);
  const TimePoint until = now + std::chrono::duration_cast<pool::Clock::duration>(cooldown);
  const auto reason_kind = from_probation            ? pool::CooldownReason::probation_failure
                           : r.streak_ends_with_dial ? pool::CooldownReason::dial_failures
                                                     : pool::CooldownReason::failures;
  r.cooldowns.push(pool::CooldownRecord{.start = now, .end = until, .reason = reason_kind});
  r.cooldown_until = until;
  r.out_since = now;
  r.out_until = until;
  r.capped = false;
  const std::size_t failures = r.streak.size();
  r.streak.clear();
  ++r.counters.ejections;
  std::string reason;
  if (from_probation) {
    ++counters_.ejections_probation;
    reason = "failed on probation (" + describe(cause) + "): cooldown " +
             format_duration(cooldown) + " at backoff x" + std::to_string(r.backoff_multiplier);
  } else {
    ++(reason_kind == pool::CooldownReason::dial_failures ? counters_.ejections_dial
                                                          : counters_.ejections_failures);
    reason = std::to_string(failures) + " consecutive failures within " +
             format_duration(cfg_.failure_window) + " (last: " + describe(cause) + "): cooldown " +
             format_duration(cooldown);
  }
  transition(r, IpState::cooling, now,
             from_probation ? DecisionKind::probation_failed : DecisionKind::eject,
             std::move(reason), cause, until);
}

void Engine::to_probation(IpRecord& r, TimePoint at, std::string reason) {
  r.streak.clear();
  r.capped = false;
  ++r.counters.probations;
  ++counters_.probations;
  transition(r, IpState::probation, at, DecisionKind::probation, std::move(reason),
             Cause{.kind = CauseKind::time, .time = at});
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

void Engine::transition(IpRecord& r, IpState to, TimePoint at, DecisionKind kind,
                        std::string reason, const Cause& cause, TimePoint until) {
  const IpState from = r.state;
  if (from != to) {
    --state_counts_[static_cast<std::size_t>(from)];
    ++state_counts_[static_cast<std::size_t>(to)];
    r.state = to;
    r.state_since = at;
    ++selection_version_;
  }
  r.last_reason = reason;
  r.last_decision = kind;
  record(DecisionRecord{.time = at,
                        .ip = r.egress.ip,
                        .kind = kind,
                        .from = from,
                        .to = to,
                        .reason = std::move(reason),
                        .cause = cause,
                        .until = until,
                        .backoff_multiplier = r.backoff_multiplier});
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
      advance(r, at);
    none = nothing_selectable();
  }
  if (none == all_unavailable_)
    return;
  all_unavailable_ = none;
  ++selection_version_;
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
