#pragma once

#include <algorithm>
#include <array>
#include <cassert>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pool/egress.hpp"
#include "pool/history.hpp"
#include "pool/history_tally.hpp"
#include "pool/interner.hpp"
#include "pool/ip_state.hpp"
#include "pool/snapshot_entries.hpp"
#include "pool/time.hpp"
#include "strategy/decision.hpp"

namespace ipm::strategy {

/// The health machine's state (see engine.hpp), kept for an egress as a whole (IpRecord) and
/// for each site that failed on it (SiteRecord): one machine, two scopes.
struct Health {
  // Ordered by use: an event reads and writes the fields up to `streak`; the rest changes
  // with transitions only (IpRecord keeps what its events touch right after them).
  pool::IpState state = pool::IpState::available;
  bool capped = false;  ///< tripped while the ejection cap was reached; kept in traffic
  bool streak_ends_with_dial = false;  ///< the newest streak failure was a dial failure
  DecisionKind last_decision = DecisionKind::ip_added;
  pool::TimePoint state_since{};     ///< time of the last transition (event time)
  pool::TimePoint clock{};           ///< newest event time seen for this scope
  pool::TimePoint cooldown_until{};  ///< cooling: planned end; banned: ban end (max = forever)
  pool::TimePoint healthy_since{};   ///< start of the current available stretch (decay)
  double backoff_multiplier = 1.0;   ///< cooldown = cool_down x this (capped, jittered)
  /// Times of the current streak's failures inside the failure window (at most
  /// consecutive_failure of them). Its size is the "consecutive failures" the Go tool exposes.
  std::vector<pool::TimePoint> streak;
  pool::TimePoint out_since{};  ///< start of the current/last period out of traffic
  pool::TimePoint out_until{};  ///< end of it (used by the ejection cap on event time)
  std::string last_reason;      ///< reason of the last decision about this scope

  std::uint32_t consecutive_failures() const { return static_cast<std::uint32_t>(streak.size()); }
  /// Out of traffic for its scope: cooling or manually banned.
  bool out() const { return state == pool::IpState::cooling || state == pool::IpState::banned; }
};

/// One site's health on one egress IP. Exists only for sites that failed on the IP (or that
/// an operator banned there), until it is healthy again with nothing left to remember, or
/// until the IP's cap (max_sites_per_ip) drops it as the least recently failed.
struct SiteRecord : Health {
  pool::Interner::Id site = pool::Interner::kEmpty;  ///< id in Engine::sites()
  pool::TimePoint last_failure{};  ///< newest failure (or manual ban): the eviction order
  pool::TimePoint last_success{};  ///< newest success since the record exists
  pool::CooldownReason reason = pool::CooldownReason::failures;  ///< of the last period out
  std::uint64_t failures = 0;   ///< failures of this site on this IP while tracked
  std::uint64_t ejections = 0;  ///< -> cooling for this site, including failed probations
};

/// Counters of one IP since it entered the pool (they survive reloads that keep the IP).
struct IpCounters {
  // The first four are what every log event counts.
  std::uint64_t events = 0;     ///< log events attributed to the IP
  std::uint64_t successes = 0;  ///< success statuses (log), dials made through source/upstream
  std::uint64_t failures = 0;   ///< failure statuses (log), the egress's own and per site
  std::uint64_t neutrals = 0;
  std::uint64_t site_failures = 0;  ///< of those failures, judged against their site only
  std::uint64_t dial_failures = 0;  ///< proxy dial errors
  std::uint64_t dials = 0;          ///< proxy dials reported, ok or not
  /// Went to history only: the IP was cooling or banned, or the event predates its last
  /// transition (a line that arrived late from another file).
  std::uint64_t ignored_events = 0;
  std::uint64_t ejections = 0;  ///< -> cooling, including failed probations
  std::uint64_t ejections_capped = 0;
  std::uint64_t probations = 0;
  std::uint64_t recoveries = 0;
  std::uint64_t site_ejections = 0;  ///< -> cooling for one site, including failed probations
  std::uint64_t sites_evicted = 0;   ///< site records dropped by the max_sites_per_ip cap
};

/// An IP's text kept inline in its record, so that finding the record by IP compares it in
/// a cache line the event reads anyway, not in the egress's string further on. Texts longer
/// than kInline (long IPv6 forms) are compared through the egress.
class IpKey {
 public:
  static constexpr std::size_t kInline = 23;

  IpKey() = default;
  explicit IpKey(std::string_view ip) {
    if (ip.size() > kInline) {
      size_ = kLong;
      return;
    }
    std::copy(ip.begin(), ip.end(), text_.begin());
    size_ = static_cast<std::uint8_t>(ip.size());
  }
  /// The text, or nullopt when it is not inline.
  std::optional<std::string_view> text() const {
    if (size_ == kLong)
      return std::nullopt;
    return std::string_view(text_.data(), size_);
  }

 private:
  static constexpr std::uint8_t kLong = UINT8_MAX;
  std::array<char, kInline> text_{};
  std::uint8_t size_ = 0;
};

/// Everything the engine knows about one egress IP. Read-only for everyone but the engine;
/// read it under SharedEngine::read.
/// Laid out for the event path: with thousands of IPs each event's record is a cache miss,
/// so what an event reads and writes (the health fields, the IP's text that finding it
/// compares, its history ring and tally, its sites, the first counters) lies together in
/// the first five cache lines of a line-aligned record, fetched at once (prefetch_event_lines).
/// The egress and what only transitions, reloads and readers touch come after.
struct alignas(64) IpRecord : Health {
  explicit IpRecord(pool::Egress e, std::size_t history_capacity, std::size_t cooldown_capacity)
      : history(history_capacity), egress(std::move(e)), cooldowns(cooldown_capacity) {
    egress_changed();
    assert(reinterpret_cast<const char*>(&counters.neutrals + 1) <=
           reinterpret_cast<const char*>(this) + kEventBytes);
  }

  /// The first bytes of the record, which hold everything an event reads and writes.
  static constexpr std::size_t kEventBytes = 5 * 64;
  /// Asks for those lines at once (before the first of them is read), so that their misses
  /// overlap instead of following one another.
  void prefetch_event_lines() const {
    const auto* bytes = reinterpret_cast<const char*>(this);
    for (std::size_t at = 0; at < kEventBytes; at += 64)
      __builtin_prefetch(bytes + at);
  }

  /// Makes `target` again for the current `egress`, keeping the connection count: call after
  /// every change of `egress` (snapshots share `target` until then).
  void egress_changed() {
    key = IpKey(egress.ip);
    auto active = target ? target->active : std::make_shared<pool::ActiveCount>();
    target = std::make_shared<const pool::PickTarget>(pool::PickTarget{egress, std::move(active)});
  }

  /// egress.ip, compared where the event's other fields are.
  std::string_view ip() const {
    if (const auto inline_text = key.text())
      return *inline_text;
    return egress.ip;
  }

  pool::HistoryTally history_tally;  ///< history's entries by (status, target), for /metrics
  IpKey key;                         ///< egress.ip (inline when short), in one cache line
  pool::HistoryRing history;         ///< pushed only through history_tally
  /// The sites that failed on this IP (sparse, at most max_sites_per_ip), in no order.
  std::vector<SiteRecord> sites;
  IpCounters counters;
  pool::TimePoint sites_pruned_at{};  ///< IP clock when healthy site records were last forgotten

  pool::Egress egress;
  /// What selection hands to a Pick: this egress and its active connections, made once per
  /// egress change rather than once per published snapshot.
  std::shared_ptr<const pool::PickTarget> target;
  /// The operator's weight (POST /api/ip/{ip}/weight), which wins over the config's
  /// `weights` across reloads; nullopt while none was set.
  std::optional<std::uint32_t> weight_override;
  /// Disabled by the operator (POST /api/ip/{ip}/disable): offered no new connection until
  /// enabled, across reloads; its health goes on being kept.
  bool disabled = false;
  /// A source whose address or link is gone from the host (rtnetlink, set_present): no
  /// selection offers it until it returns. The state machine is untouched.
  bool absent = false;
  pool::CooldownLog cooldowns;  ///< periods out for every site (per-site ones: in sites)

  const SiteRecord* find_site(pool::Interner::Id site) const {
    for (const auto& s : sites) {
      if (s.site == site)
        return &s;
    }
    return nullptr;
  }
};

}  // namespace ipm::strategy
