#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "pool/egress.hpp"
#include "pool/ip_state.hpp"
#include "pool/schedule.hpp"
#include "pool/site_name.hpp"
#include "pool/snapshot_entries.hpp"

namespace ipm::pool {

/// How selection treats one egress for one site: out for it, or on probation for it.
struct SiteRule {
  std::uint32_t ip = 0;  ///< index into Snapshot::ips
  float share = 0.0F;    ///< 0: out for the site; else the share of its draws it keeps
};

/// The egresses one site must avoid or go easy on (health per target site).
/// Aligned so that what every pick for the site reads first (`site`, `by_ip`'s pointer)
/// shares one cache line, and the filter's word for an IP is one more.
struct alignas(64) SiteRules {
  std::string site;
  /// Filled by index(): `rules` open-addressed by ip (a power-of-two size, at most half
  /// full), so that share_of() is one probe however many rules the site has.
  std::vector<SiteRule> by_ip{};
  /// Filled by index(): every rule is an out (no probation) and names an IP below
  /// kFilterBits, so a set bit of `may_have` for such an IP is its rule: share 0, no probe.
  /// True for most sites of a pool of up to 1,024 egresses (probation is a short phase).
  bool bits_are_outs = false;
  /// Filled by index(): bit `ip % 1024` is set when some rule's ip has that remainder, so a
  /// draw of an IP with no rule for the site (most draws) is answered without touching
  /// `by_ip`, whose probe is a cache miss on a busy pool. Exact up to 1,024 egresses; past
  /// that a filter (site_health_bench: 18% of draws probed `by_ip` with 256 bits, 5% now).
  static constexpr std::size_t kFilterBits = 1024;
  alignas(64) std::array<std::uint64_t, kFilterBits / 64> may_have{};
  std::vector<SiteRule> rules;  ///< sorted by ip

  /// The share egress `ip` keeps for this site: 1 without a rule. O(1) once indexed (every
  /// SiteRules of a published snapshot is, by Snapshot::set_sites); a binary search before.
  float share_of(std::uint32_t ip) const {
    if (by_ip.empty())
      return share_of_listed(ip);
    if ((may_have[filter_word(ip)] & filter_bit(ip)) == 0)
      return 1.0F;
    if (bits_are_outs && ip < kFilterBits)
      return 0.0F;
    return share_of_listed(ip);
  }
  /// Builds `may_have`, `bits_are_outs` and `by_ip` from `rules`.
  void index();

 private:
  // Where IP `ip` lies in `may_have`: its word, and its bit in that word.
  static std::size_t filter_word(std::uint32_t ip) { return (ip / 64) % (kFilterBits / 64); }
  static std::uint64_t filter_bit(std::uint32_t ip) { return std::uint64_t{1} << (ip % 64); }
  float share_of_listed(std::uint32_t ip) const;  // past the filter: the table or the list
};

/// An immutable view of the pool, built by the strategy engine after every change that
/// matters for selection and published by Selector::publish. Readers hold it by
/// shared_ptr<const Snapshot> and need no lock.
struct Snapshot {
  SnapshotEntries ips;  ///< in upstream-config order, chunks shared between snapshots
  /// No IP is available or on probation (manual bans and cooling IPs only).
  bool all_unavailable = false;
  /// The all-unavailable fallback is in force: least-bad cooling IPs are selectable.
  bool least_bad_fallback = false;
  std::array<std::uint32_t, kIpStateCount> count_by_state{};  ///< indexed by IpState
  std::uint64_t version = 0;                                  ///< strictly increasing per engine

  /// Filled by Selector::publish: indices into `ips`, each selectable IP appearing in
  /// proportion to weight x share, interleaved smoothly (see Schedule), sharing the pieces of
  /// unchanged chunks with the snapshot published before. Empty when nothing is selectable.
  Schedule schedule;
  /// Filled by Selector::publish: the policy `schedule` was built for (they change together).
  config::Selection policy = config::Selection::least_conn;

  /// Per-site exclusions, only for sites some egress is out or on probation for. Set through
  /// set_sites() (which indexes them) before publishing.
  std::vector<SiteRules> sites;

  std::uint32_t count(IpState s) const { return count_by_state[static_cast<std::size_t>(s)]; }
  /// Takes the per-site rules and indexes them for rules_for().
  void set_sites(std::vector<SiteRules> rules);
  /// The rules of `site` (a grouped site name), or nullptr when it has none: then every
  /// egress serves it as the schedule says. Lock-free: a probe of a flat table by the site's
  /// hash (kept in the SiteName, not computed here).
  /// Inline: once per pick for a site, where a call's prologue showed in its profile.
  const SiteRules* rules_for(const SiteName& site) const {
    if (site_slots_.empty() || site.empty())
      return nullptr;
    const std::uint64_t h = site.hash();
    const auto tag = static_cast<std::uint32_t>(h >> 32);
    const std::size_t mask = site_slots_.size() - 1;
    for (std::size_t slot = h & mask;; slot = (slot + 1) & mask) {
      const SiteSlot& s = site_slots_[slot];
      if (s.at == 0)
        return nullptr;
      if (s.tag == tag && site.is(sites[s.at - 1].site))  // the tag spares most compares
        return &sites[s.at - 1];
    }
  }
  /// Whether egress `ip` may take traffic for `site` ("" = no site): selectable and not out
  /// for that site.
  bool selectable_for(std::uint32_t ip, const SiteName& site) const;
  std::size_t selectable_count() const;
  /// Index of `ip` in `ips`, or -1.
  std::ptrdiff_t find(std::string_view ip) const;

 private:
  struct SiteSlot {
    std::uint32_t tag = 0;  // high bits of the site's hash
    std::uint32_t at = 0;   // index into sites + 1; 0: free
  };
  std::vector<SiteSlot> site_slots_;  // open addressing
};

}  // namespace ipm::pool
