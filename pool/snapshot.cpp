#include "pool/snapshot.hpp"

#include <algorithm>
#include <functional>

namespace ipm::pool {

std::size_t Snapshot::selectable_count() const {
  return static_cast<std::size_t>(
      std::count_if(ips.begin(), ips.end(), [](const SnapshotEntry& e) { return e.selectable; }));
}

float SiteRules::share_of(std::uint32_t ip) const {
  const auto it = std::lower_bound(rules.begin(), rules.end(), ip,
                                   [](const SiteRule& r, std::uint32_t i) { return r.ip < i; });
  return it != rules.end() && it->ip == ip ? it->share : 1.0F;
}

void Snapshot::set_sites(std::vector<SiteRules> rules) {
  sites = std::move(rules);
  site_slots_.clear();
  if (sites.empty())
    return;
  std::size_t size = 8;
  while (size < sites.size() * 2)
    size *= 2;
  site_slots_.assign(size, SiteSlot{});
  const std::size_t mask = size - 1;
  for (std::size_t i = 0; i < sites.size(); ++i) {
    const std::size_t h = std::hash<std::string_view>{}(sites[i].site);
    std::size_t slot = h & mask;
    while (site_slots_[slot].at != 0)
      slot = (slot + 1) & mask;
    site_slots_[slot] =
        SiteSlot{static_cast<std::uint32_t>(h >> 32), static_cast<std::uint32_t>(i + 1)};
  }
}

const SiteRules* Snapshot::rules_for(std::string_view site) const {
  if (site_slots_.empty() || site.empty())
    return nullptr;
  const std::size_t h = std::hash<std::string_view>{}(site);
  const auto tag = static_cast<std::uint32_t>(h >> 32);
  const std::size_t mask = site_slots_.size() - 1;
  for (std::size_t slot = h & mask;; slot = (slot + 1) & mask) {
    const SiteSlot& s = site_slots_[slot];
    if (s.at == 0)
      return nullptr;
    if (s.tag == tag && sites[s.at - 1].site == site)  // the tag spares most string compares
      return &sites[s.at - 1];
  }
}

bool Snapshot::selectable_for(std::uint32_t ip, std::string_view site) const {
  if (ip >= ips.size() || !ips[ip].selectable)
    return false;
  const SiteRules* rules = rules_for(site);
  return rules == nullptr || rules->share_of(ip) > 0.0F;
}

std::ptrdiff_t Snapshot::find(std::string_view ip) const {
  for (std::size_t i = 0; i < ips.size(); ++i) {
    if (ips[i].egress.ip == ip)
      return static_cast<std::ptrdiff_t>(i);
  }
  return -1;
}

}  // namespace ipm::pool
