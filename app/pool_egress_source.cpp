#include "app/pool_egress_source.hpp"

#include <algorithm>
#include <cmath>

#include "clients/weighted_choice.hpp"

namespace ipm::app {

PoolEgressSource::PoolEgressSource(pool::Selector& selector, strategy::SharedEngine& engine,
                                   config::TargetGrouping grouping)
    : selector_(selector), engine_(engine), grouper_(grouping) {}

std::optional<pool::Egress> PoolEgressSource::pick(const pool::Request& request,
                                                   std::span<const pool::Egress> tried) {
  std::vector<std::string> exclude;
  exclude.reserve(tried.size());
  for (const auto& e : tried)
    exclude.push_back(e.ip);
  const std::string_view target = request.target.empty() ? request.host : request.target;
  pool::SiteGrouper::Grouped site;
  if (!target.empty() && selector_.has_site_rules())
    site = grouper_.grouped(target);
  pool::Request with_site = request;
  with_site.site = site.name();
  std::optional<pool::Pick> picked;
  const std::shared_ptr<const clients::SourceIpRules> rules = this->rules();
  const auto client =
      rules && !rules->empty() ? clients::ClientAddress::of_endpoint(request.client) : std::nullopt;
  const bool ruled = client && rules->names(*client);
  if (!request.key.empty()) {
    const Offer o =
        offer(ruled ? rules.get() : nullptr, ruled ? &*client : nullptr, with_site, exclude);
    if (const auto k = clients::rendezvous(request.key, o.weighted))
      picked = pick_at(o, *k);
    else if (!ruled && o.weighted.empty())
      picked = selector_.pick(with_site, exclude);  // nothing selectable: the pool's fallback
  } else if (ruled) {
    const Offer o = offer(rules.get(), &*client, with_site, exclude);
    if (const auto k = rotations_.pick_weighted(*client, o.weighted))
      picked = pick_at(o, *k);
    // else every egress left weighs 0 for this client: refused
  } else {
    picked = selector_.pick(with_site, exclude);
  }
  if (!picked)
    return std::nullopt;
  pool::Egress egress = picked->egress();
  std::lock_guard lock(mutex_);
  leases_[egress.ip].dialing.push_back(std::move(*picked));
  return egress;
}

PoolEgressSource::Offer PoolEgressSource::offer(const clients::SourceIpRules* rules,
                                                const clients::ClientAddress* client,
                                                const pool::Request& request,
                                                std::span<const std::string> exclude) const {
  Offer o;
  o.snap = selector_.snapshot();
  const pool::Snapshot& snap = *o.snap;
  std::vector<clients::Candidate> offered;
  const auto add = [&](const pool::SiteName& site) {
    for (std::uint32_t i = 0; i < snap.ips.size(); ++i) {
      const pool::SnapshotEntry& e = snap.ips[i];
      if (!e.selectable || e.share <= 0.0 || !pool::can_serve(e.egress, request) ||
          std::find(exclude.begin(), exclude.end(), e.egress.ip) != exclude.end() ||
          !snap.selectable_for(i, site))
        continue;
      o.indices.push_back(i);
      offered.push_back({e.egress.ip, e.egress.weight});
    }
  };
  add(request.site);
  if (offered.empty() && !request.site.empty())
    add({});
  o.weighted = rules != nullptr ? clients::RuledRotations::weights_for(*rules, *client, offered)
                                : std::move(offered);
  // Probation: the egress keeps its share of what it would weigh (at least 1 of a cycle while
  // that is not 0).
  for (std::size_t k = 0; k < o.weighted.size(); ++k) {
    const double share = snap.ips[o.indices[k]].share;
    if (share < 1.0 && o.weighted[k].weight > 0)
      o.weighted[k].weight = std::max<std::uint32_t>(
          1, static_cast<std::uint32_t>(std::lround(o.weighted[k].weight * share)));
  }
  return o;
}

pool::Pick PoolEgressSource::pick_at(const Offer& o, std::size_t k) {
  const std::uint32_t i = o.indices[k];
  return pool::Pick(o.snap->schedule.candidate(i), i, o.snap->least_bad_fallback);
}

void PoolEgressSource::set_rules(std::shared_ptr<const clients::SourceIpRules> rules) {
  std::lock_guard lock(rules_mutex_);
  rules_ = std::move(rules);
}

std::shared_ptr<const clients::SourceIpRules> PoolEgressSource::rules() const {
  std::lock_guard lock(rules_mutex_);
  return rules_;
}

void PoolEgressSource::report(const pool::DialOutcome& outcome) {
  // The engine first: the IP leaves rotation before this connection tries another one.
  engine_.apply(outcome);
  if (outcome.result == pool::DialResult::ok)
    return;  // the lease moves to open in opened()
  std::lock_guard lock(mutex_);
  auto it = leases_.find(std::string(outcome.ip));
  if (it == leases_.end() || it->second.dialing.empty())
    return;
  it->second.dialing.pop_back();
}

void PoolEgressSource::abandoned(const pool::Egress& egress) {
  std::lock_guard lock(mutex_);
  auto it = leases_.find(egress.ip);
  if (it == leases_.end() || it->second.dialing.empty())
    return;
  it->second.dialing.pop_back();
  if (it->second.open.empty() && it->second.dialing.empty())
    leases_.erase(it);
}

void PoolEgressSource::opened(const pool::Egress& egress) {
  std::lock_guard lock(mutex_);
  auto& l = leases_[egress.ip];
  if (l.dialing.empty())
    return;  // fix_port or a pick we did not make: nothing to count
  l.open.push_back(std::move(l.dialing.back()));
  l.dialing.pop_back();
}

void PoolEgressSource::closed(const pool::Egress& egress) {
  std::lock_guard lock(mutex_);
  auto it = leases_.find(egress.ip);
  if (it == leases_.end() || it->second.open.empty())
    return;
  it->second.open.pop_back();
  if (it->second.open.empty() && it->second.dialing.empty())
    leases_.erase(it);
}

std::size_t PoolEgressSource::leases() const {
  std::lock_guard lock(mutex_);
  std::size_t n = 0;
  for (const auto& [ip, l] : leases_)
    n += l.dialing.size() + l.open.size();
  return n;
}

}  // namespace ipm::app
