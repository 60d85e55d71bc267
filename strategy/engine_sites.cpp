// Engine: per-site records (lookup, the cap, forgetting), manual commands naming a site, and
// the interners' reclaim.
#include <algorithm>

#include "strategy/engine.hpp"

namespace ipm::strategy {
namespace {

using pool::Interner;
using pool::IpState;
using pool::TimePoint;

Cause manual_cause(TimePoint now) {
  return Cause{.kind = CauseKind::manual, .time = now};
}

bool nothing_to_remember(const SiteRecord& s) {
  return s.state == IpState::available && s.streak.empty() && s.backoff_multiplier <= 1.0 &&
         !s.capped;
}

}  // namespace

std::size_t Engine::site_cap() const {
  return std::max<std::uint32_t>(cfg_.max_sites_per_ip, 1);
}

std::size_t Engine::sites_tracked() const {
  std::size_t n = 0;
  for (const auto& r : ips_)
    n += r.sites.size();
  return n;
}

Interner::Id Engine::site_of_target(Interner::Id target, std::string_view text) {
  // Grouping (libpsl) runs once per distinct target; the answer is kept by target id.
  const bool cacheable = target != Interner::kOverflow;
  if (cacheable && target < site_of_target_.size() && site_of_target_[target] != kUnset)
    return site_of_target_[target];
  const std::string site = grouper_.site_of(text);
  const Interner::Id id = site.empty() ? Interner::kEmpty : intern_site(site);
  if (cacheable && id != Interner::kOverflow) {
    if (target >= site_of_target_.size())
      site_of_target_.resize(std::max<std::size_t>(targets_.id_bound(), target + 1), kUnset);
    site_of_target_[target] = id;
  }
  return id;
}

Interner::Id Engine::site_of_text(std::string_view target) {
  const std::string site = grouper_.site_of(target);
  return site.empty() ? Interner::kEmpty : intern_site(site);
}

SiteRecord* Engine::find_site(IpRecord& r, Interner::Id site) {
  for (auto& s : r.sites) {
    if (s.site == site)
      return &s;
  }
  return nullptr;
}

SiteRecord& Engine::site_record(IpRecord& r, Interner::Id site, TimePoint now) {
  if (SiteRecord* found = find_site(r, site))
    return *found;
  while (r.sites.size() >= site_cap()) {
    // Past the cap the least recently failed site goes (ties: the first tracked).
    auto victim = std::min_element(
        r.sites.begin(), r.sites.end(),
        [](const SiteRecord& a, const SiteRecord& b) { return a.last_failure < b.last_failure; });
    ++r.counters.sites_evicted;
    ++counters_.sites_evicted;
    if (victim->state != IpState::available) {
      record(DecisionRecord{.time = now,
                            .ip = r.egress.ip,
                            .site = std::string(sites_.lookup(victim->site)),
                            .kind = DecisionKind::site_evicted,
                            .from = victim->state,
                            .to = IpState::available,
                            .reason = "max_sites_per_ip (" + std::to_string(site_cap()) +
                                      ") reached: the least recently failed site is dropped",
                            .cause = Cause{.kind = CauseKind::time, .time = now}});
      site_rules_changed();
    }
    *victim = std::move(r.sites.back());
    r.sites.pop_back();
  }
  SiteRecord& s = r.sites.emplace_back();
  s.site = site;
  s.last_decision = DecisionKind::eject;  // until it has its own
  return s;
}

void Engine::forget_if_healthy(IpRecord& r, SiteRecord& s) {
  if (!nothing_to_remember(s))
    return;
  ++counters_.sites_forgotten;
  s = std::move(r.sites.back());
  r.sites.pop_back();
}

void Engine::forget_healthy_sites(IpRecord& r) {
  // Judged on the IP's own event clock: failures fall out of the window, backoff decays as
  // the site's next event would see it.
  const TimePoint now = r.clock;
  for (std::size_t i = 0; i < r.sites.size();) {
    SiteRecord& s = r.sites[i];
    if (s.state == IpState::available && now > s.clock) {
      std::erase_if(s.streak, [&](TimePoint f) { return f + cfg_.failure_window < now; });
      if (s.streak.empty())
        decay(Scope{r, &s}, now);
    }
    if (nothing_to_remember(s)) {
      ++counters_.sites_forgotten;
      s = std::move(r.sites.back());
      r.sites.pop_back();
      continue;
    }
    ++i;
  }
}

const SiteRecord* Engine::site_record(const IpRecord& r, std::string_view site) const {
  if (site.empty() || r.sites.empty())
    return nullptr;
  const Interner::Id id = sites_.find(site);
  return id == Interner::kOverflow ? nullptr : r.find_site(id);
}

SiteCommand Engine::ban_site(std::string_view ip, std::string_view target, TimePoint until,
                             std::string reason, TimePoint now) {
  IpRecord* r = find_mutable(ip);
  if (r == nullptr)
    return SiteCommand::unknown_ip;
  const Interner::Id site = site_of_text(target);
  if (site == Interner::kEmpty || site == Interner::kOverflow)
    return SiteCommand::no_site;
  ++counters_.manual;
  SiteRecord& s = site_record(*r, site, now);
  advance(Scope{*r, &s}, now);
  s.clock = std::max(s.clock, now);
  s.last_failure = std::max(s.last_failure, now);  // recent for the cap's eviction order
  s.streak.clear();
  s.capped = false;
  s.out_until = std::min(s.out_until, now);
  s.cooldown_until = until;
  s.reason = pool::CooldownReason::manual;
  const std::string until_text =
      until == TimePoint::max() ? "until unbanned" : "for " + format_duration(until - now);
  transition(Scope{*r, &s}, IpState::banned, now, DecisionKind::manual_ban,
             "manual ban " + until_text + (reason.empty() ? "" : ": " + reason), manual_cause(now),
             until);
  return SiteCommand::done;
}

SiteCommand Engine::lift_site(std::string_view ip, std::string_view target, TimePoint now,
                              bool forget_backoff) {
  IpRecord* r = find_mutable(ip);
  if (r == nullptr)
    return SiteCommand::unknown_ip;
  const std::string name = grouper_.site_of(target);
  if (name.empty())
    return SiteCommand::no_site;
  const Interner::Id site = sites_.find(name);
  SiteRecord* s = site == Interner::kOverflow ? nullptr : find_site(*r, site);
  if (s == nullptr)
    return SiteCommand::not_tracked;
  ++counters_.manual;
  advance(Scope{*r, s}, now);
  s->clock = std::max(s->clock, now);
  s->streak.clear();
  s->capped = false;
  s->out_until = std::min(s->out_until, now);
  if (forget_backoff)
    s->backoff_multiplier = 1.0;
  if (forget_backoff || s->state != IpState::available)
    s->healthy_since = now;
  if (forget_backoff) {
    transition(Scope{*r, s}, IpState::available, now, DecisionKind::manual_reset,
               "manual reset: failure count and backoff forgotten", manual_cause(now));
  } else {
    transition(Scope{*r, s}, IpState::available, now, DecisionKind::manual_unban,
               "manual unban (backoff x" + std::to_string(s->backoff_multiplier) + " kept)",
               manual_cause(now));
  }
  forget_if_healthy(*r, *s);
  return SiteCommand::done;
}

SiteCommand Engine::unban_site(std::string_view ip, std::string_view target, TimePoint now) {
  return lift_site(ip, target, now, /*forget_backoff=*/false);
}

SiteCommand Engine::reset_site(std::string_view ip, std::string_view target, TimePoint now) {
  return lift_site(ip, target, now, /*forget_backoff=*/true);
}

// --- interners ---

Interner::Id Engine::intern_key(std::string_view s) {
  Interner::Id id = keys_.intern(s);
  if (id == Interner::kOverflow && keys_.reclaim_due()) {
    reclaim_history_ids();
    id = keys_.intern(s);
  }
  return id;
}

Interner::Id Engine::intern_target(std::string_view s) {
  Interner::Id id = targets_.intern(s);
  if (id == Interner::kOverflow && targets_.reclaim_due()) {
    reclaim_history_ids();
    id = targets_.intern(s);
  }
  return id;
}

Interner::Id Engine::intern_site(std::string_view s) {
  Interner::Id id = sites_.intern(s);
  if (id == Interner::kOverflow && sites_.reclaim_due()) {
    reclaim_site_ids();
    id = sites_.intern(s);
  }
  return id;
}

void Engine::reclaim_history_ids() {
  // Keys and targets live on in history entries only (the tally counts what the ring holds).
  std::vector<bool> keys(keys_.id_bound(), false);
  std::vector<bool> targets(targets_.id_bound(), false);
  for (const auto& r : ips_) {
    r.history.for_each([&](const pool::HistoryEntry& e) {
      if (e.key < keys.size())
        keys[e.key] = true;
      if (e.target < targets.size())
        targets[e.target] = true;
    });
  }
  keys_.reclaim(keys);
  targets_.reclaim(targets);
  for (std::size_t id = 0; id < site_of_target_.size() && id < targets.size(); ++id) {
    if (!targets[id])
      site_of_target_[id] = kUnset;  // the id may come back as another target
  }
}

void Engine::reclaim_site_ids() {
  std::vector<bool> live(sites_.id_bound(), false);
  for (const auto& r : ips_) {
    for (const auto& s : r.sites)
      live[s.site] = true;
  }
  sites_.reclaim(live);
  std::fill(site_of_target_.begin(), site_of_target_.end(), kUnset);
}

}  // namespace ipm::strategy
