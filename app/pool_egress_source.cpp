#include "app/pool_egress_source.hpp"

#include <algorithm>

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
  std::string site;
  if (!target.empty() && selector_.has_site_rules())
    site = grouper_.site_of(target);
  pool::Request with_site = request;
  with_site.site = site;
  auto picked = selector_.pick(with_site, exclude);
  if (!picked)
    return std::nullopt;
  pool::Egress egress = picked->egress();
  std::lock_guard lock(mutex_);
  leases_[egress.ip].dialing.push_back(std::move(*picked));
  return egress;
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
