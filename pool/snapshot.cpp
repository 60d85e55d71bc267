#include "pool/snapshot.hpp"

#include <algorithm>

namespace ipm::pool {

std::size_t Snapshot::selectable_count() const {
  return static_cast<std::size_t>(
      std::count_if(ips.begin(), ips.end(), [](const SnapshotEntry& e) { return e.selectable; }));
}

namespace {

constexpr std::uint32_t kFreeSlot = UINT32_MAX;  // no IP index is that large

// Spreads IP indices over the table (Fibonacci hashing, its high bits folded in).
std::size_t slot_of(std::uint32_t ip, std::size_t mask) {
  const std::uint32_t h = ip * 0x9E3779B1U;
  return (h ^ (h >> 15)) & mask;
}

}  // namespace

float SiteRules::share_of_listed(std::uint32_t ip) const {
  if (!by_ip.empty()) {
    const std::size_t mask = by_ip.size() - 1;
    for (std::size_t slot = slot_of(ip, mask);; slot = (slot + 1) & mask) {
      if (by_ip[slot].ip == ip)
        return by_ip[slot].share;
      if (by_ip[slot].ip == kFreeSlot)
        return 1.0F;
    }
  }
  const auto it = std::lower_bound(rules.begin(), rules.end(), ip,
                                   [](const SiteRule& r, std::uint32_t i) { return r.ip < i; });
  return it != rules.end() && it->ip == ip ? it->share : 1.0F;
}

void SiteRules::index() {
  by_ip.clear();
  may_have.fill(0);
  bits_are_outs = false;
  if (rules.empty())
    return;
  bits_are_outs = std::all_of(rules.begin(), rules.end(), [](const SiteRule& r) {
    return r.share <= 0.0F && r.ip < kFilterBits;
  });
  std::size_t size = 4;
  while (size < rules.size() * 2)
    size *= 2;
  by_ip.assign(size, SiteRule{.ip = kFreeSlot, .share = 1.0F});
  const std::size_t mask = size - 1;
  for (const SiteRule& r : rules) {
    may_have[filter_word(r.ip)] |= filter_bit(r.ip);
    std::size_t slot = slot_of(r.ip, mask);
    while (by_ip[slot].ip != kFreeSlot && by_ip[slot].ip != r.ip)
      slot = (slot + 1) & mask;
    by_ip[slot] = r;
  }
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
    sites[i].index();
    const std::uint64_t h = SiteName::hash_of(sites[i].site);
    std::size_t slot = h & mask;
    while (site_slots_[slot].at != 0)
      slot = (slot + 1) & mask;
    site_slots_[slot] =
        SiteSlot{static_cast<std::uint32_t>(h >> 32), static_cast<std::uint32_t>(i + 1)};
  }
}

bool Snapshot::selectable_for(std::uint32_t ip, const SiteName& site) const {
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
