#pragma once

// Health decisions for the egress pool: one state machine per IP, driven by event time, and
// the same machine per (IP, site) for the sites that failed on an IP.
//
//   available --(consecutive_failure failures within failure_window)--> cooling
//   cooling   --(cooldown over)-------------------------------------> probation
//   probation --(first success)-------------------------------------> available
//   probation --(any failure)--> cooling again, backoff multiplier doubled
//   any       --(manual ban)--> banned --(ban expires)--> probation; unban/reset --> available
//
// Outcomes. A failure is a status in `failure_statuses` (default 403, 407, 429, 5xx), judged
// on $upstream_status when nginx got one and on $status otherwise, or a proxy dial error
// (refused, timeout, unreachable). 404, other 4xx and client aborts (499) are neutral: they
// neither count nor reset. A 1xx-3xx status is a success and empties the failure streak; a
// successful dial is neutral. Failures older than `failure_window` drop out of the streak.
//
// Cooldown = cool_down_min x multiplier, the multiplier doubling on each failed probation
// while the product stays under max_cool_down (which caps it), then stretched by a
// deterministic jitter of +- cool_down_jitter seeded from the IP (and site) and the event
// time. A scope that stays available for backoff_decay_after has its multiplier halved
// (repeatedly, judged at its next event).
// On probation a scope starts from a zero count and gets probation_share of a healthy IP's
// traffic; events it receives while cooling or banned go to history only.
//
// Health per target site. Sites block IPs one by one: the usual failure of an egress IP is
// "site A answers 403 to it" while sites B..Z accept it. So besides each IP's own machine
// (the "egress scope"), the engine keeps a sparse SiteRecord per (IP, site) for the sites
// that failed on that IP, each running the machine above on its own: its streak, cooldown
// with jitter, probation, backoff and decay. A site is what config `target_grouping` makes of
// the line's target (`target_variable`, by default $http_x_egress_host): the registrable
// domain (libpsl), the host, or nothing (pool/site.hpp). How one event is judged:
//   - the egress's own failures go to the egress scope and eject the IP for every site:
//     a proxy dial failure (but a refusal that is the destination's, strategy::blame: an
//     upstream's "not allowed" or "refused", a source's connect the destination reset, goes
//     to the destination's site, and is neutral without one), and a failure nginx answered itself,
//     without an upstream status
//     ($upstream_status absent: proxy_bind failed, nothing reached). (nginx 1.22 logs the
//     same $upstream_status 502 for a failed connect as for a target's own 502, so those are
//     the site's, and a dead egress is caught by the next rule or by its dial failures);
//   - a failure with a site goes to that site's record only: a success for site B does not
//     reset site A's streak;
//   - a failure without a site (no target, grouping none) goes to the egress scope (as
//     before per-site health existed);
//   - a success resets the egress scope's streak (the egress works) and the streak of its
//     own site, if tracked, and ends that site's probation;
//   - an IP failing on `failing_sites_to_eject` distinct sites within failure_window (sites
//     whose newest failure is inside the window, came after the IP's last transition, and has
//     no success after it) is ejected for every site: many sites at once is the egress.
// Each IP tracks at most `max_sites_per_ip` sites; a new failing site past the cap drops the
// least recently failed one (counted, and recorded as site_evicted when it was out). A
// record is forgotten once it is available again with an empty streak and a backoff of 1
// (at its own next event, or by a sweep on the IP's own events every failure_window / 4 of
// its clock: never on tick(), so live and replay forget, and evict, the same records).
// Selection reads per-site exclusions from the snapshot (pool::Snapshot::sites): an IP
// cooling or banned for the request's site is skipped, one on probation for it gets
// probation_share of its draws; without a site (or a site nothing failed for) selection is
// exactly as before, lock-free either way.
//
// Ejection cap. At most max_ejected_percent of the pool (at least one IP when the percent is
// above zero) may be cooling at one event time. A trip beyond the cap does not eject: the IP
// stays in (recorded as eject_capped) and trips again on its next failure, so the IPs that
// stay in are the ones that failed last, as with Envoy's outlier detection. Manual bans are
// the operator's and neither count toward the cap nor are limited by it. The cap holds per
// site too: IPs out for the egress scope or for site S together stay within the cap for S,
// so one site can never empty the pool for itself.
//
// All unavailable. When no IP is available or on probation the pool says so once per change
// (an all_unavailable_enter / _leave decision and a flag), and `all_unavailable` decides:
// `least_bad` lets the cooling IPs with the smallest backoff multiplier take traffic (never
// manually banned ones), `refuse` offers nothing and the proxy closes the client.
//
// Bounded memory. Keys, targets and sites are interned (pool::Interner, 100,000 each); when
// an interner is full the engine sweeps it, keeping the ids some history entry or site record
// still refers to and freeing the rest for reuse.
//
// Time and order. The engine never reads a clock: every call carries its time. Transitions
// caused by time (end of cooldown, end of ban, decay) are stamped at their deadline, not at
// the tick that noticed them, and are also applied lazily when an event for the IP arrives,
// so the state after a sequence of events does not depend on when tick() ran. Events may
// arrive slightly out of order across log files: an event older than the scope's last
// transition describes the previous state and only goes to history; inside one state, the
// scope's clock is the newest event time seen and never runs backwards. The same events in the
// same order give the same state, live or replayed.

#include <array>
#include <cstdint>
#include <deque>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "pool/egress.hpp"
#include "pool/event.hpp"
#include "pool/interner.hpp"
#include "pool/site.hpp"
#include "pool/snapshot.hpp"
#include "pool/string_index.hpp"
#include "pool/time.hpp"
#include "strategy/decision.hpp"
#include "strategy/ip_record.hpp"
#include "strategy/outcome.hpp"

namespace ipm::strategy {

/// Pool-level counters, since the engine started.
struct PoolCounters {
  std::uint64_t events = 0;     ///< log events applied
  std::uint64_t successes = 0;  ///< of those for IPs of the pool, by outcome
  std::uint64_t failures = 0;
  std::uint64_t neutrals = 0;
  std::uint64_t dial_outcomes = 0;        ///< dial outcomes applied
  std::uint64_t unknown_ip_events = 0;    ///< events for IPs not in the pool (dropped)
  std::uint64_t ejections_failures = 0;   ///< eject, tripped by log statuses
  std::uint64_t ejections_dial = 0;       ///< eject, tripped by a dial failure
  std::uint64_t ejections_probation = 0;  ///< probation_failed
  std::uint64_t ejections_capped = 0;     ///< eject_capped
  std::uint64_t probations = 0;
  std::uint64_t recoveries = 0;
  std::uint64_t manual = 0;                       ///< ban, unban, reset
  std::uint64_t all_unavailable_transitions = 0;  ///< enter + leave
  std::uint64_t ejections_sites = 0;  ///< eject for all, tripped by failures on many sites
  // Health per target site: counts over every (IP, site) pair, bounded (no site label).
  std::uint64_t site_failures = 0;             ///< failures judged against their site only
  std::uint64_t site_ejections = 0;            ///< eject for one site
  std::uint64_t site_ejections_probation = 0;  ///< probation_failed for one site
  std::uint64_t site_ejections_capped = 0;     ///< eject_capped for one site
  std::uint64_t site_probations = 0;
  std::uint64_t site_recoveries = 0;
  std::uint64_t sites_evicted = 0;    ///< site records dropped by max_sites_per_ip
  std::uint64_t sites_forgotten = 0;  ///< site records healthy again with nothing to remember
};

/// Result of a manual command that names a site.
enum class SiteCommand : std::uint8_t { done, unknown_ip, no_site, not_tracked };

/// The strategy engine: health decisions over events, and the snapshot selection reads.
/// Not thread-safe: one owner (SharedEngine wraps it behind a mutex for the app).
class Engine {
 public:
  /// Takes the strategy keys of `cfg`; `egresses` is the initial pool, all available at `now`.
  Engine(const config::Config& cfg, std::vector<pool::Egress> egresses, pool::TimePoint now);
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  /// A log line attributed to an IP. Copies/interns what it keeps from the views.
  void apply(const pool::LogEvent& e);
  /// The lines in order, as apply(e) each; the IP of the line after next is looked up while
  /// this one is applied, so that with a large pool their cache misses overlap.
  void apply(std::span<const pool::LogEvent> batch);
  /// A proxy dial outcome.
  void apply(const pool::DialOutcome& d);
  /// Lets time pass without events: ends cooldowns and bans whose deadline is <= now.
  /// (Backoff decay is applied on the IP's next event, so a tick that runs ahead of lines
  /// still to be read cannot change how they are judged.)
  void tick(pool::TimePoint now);

  /// Manual commands; false when `ip` is not in the pool. ban() with until =
  /// TimePoint::max() bans until unbanned. unban() lifts a ban or a cooldown (-> available,
  /// count cleared, backoff kept); reset() also forgets the backoff.
  bool ban(std::string_view ip, pool::TimePoint until, std::string reason, pool::TimePoint now);
  bool unban(std::string_view ip, pool::TimePoint now);
  bool reset(std::string_view ip, pool::TimePoint now);
  /// The operator's weight of `ip` from now on, kept across reloads; 0 drains it (selection
  /// offers it no new connection; open ones go on). The state machine is unchanged.
  bool set_weight(std::string_view ip, std::uint32_t weight, pool::TimePoint now);
  /// Disables `ip` (selection offers it no new connection, open ones go on: a drain) or
  /// enables it again, kept across reloads; the state machine is unchanged either way.
  bool set_disabled(std::string_view ip, bool disabled, pool::TimePoint now);
  /// Whether source `ip` can leave the host (its address and link are there, rtnetlink):
  /// while not, selection offers it nothing; its state machine is untouched. Recorded as
  /// address_gone / address_back when it changes. False when `ip` is not in the pool.
  bool set_present(std::string_view ip, bool present, pool::TimePoint now);

  /// The same for one site of `ip` (`target` is grouped like a log line's target: "www.a.example"
  /// names the site "a.example"). A ban creates the site's record (the cap may evict another);
  /// unban and reset of a site that is not tracked answer not_tracked; no_site when `target`
  /// names no site (or target_grouping is none).
  SiteCommand ban_site(std::string_view ip, std::string_view target, pool::TimePoint until,
                       std::string reason, pool::TimePoint now);
  SiteCommand unban_site(std::string_view ip, std::string_view target, pool::TimePoint now);
  SiteCommand reset_site(std::string_view ip, std::string_view target, pool::TimePoint now);

  /// The upstream config changed: IPs that stay keep history and state (their port, name
  /// and weight are updated), new ones start available, removed ones vanish. Duplicate IPs
  /// keep their first entry. Returns the number of duplicates ignored.
  std::size_t reload(std::vector<pool::Egress> egresses, pool::TimePoint now);

  /// A reloaded config (SIGHUP): its strategy keys apply from now on to what happens next.
  /// Thresholds, windows and failure statuses judge the next outcomes; cooldown lengths,
  /// jitter and backoff shape the next ejections (IPs cooling now keep their deadlines);
  /// probation_share, all_unavailable and max_ejected_percent the next snapshot and
  /// ejections. The sizes of what is already allocated (max_history_log_each_ip,
  /// max_cool_down_log_each_ip, decisions_kept) stay until a restart.
  void reconfigure(const config::Config& next);

  // --- reading (for the probe, metrics and tests) ---

  std::span<const IpRecord> ips() const { return ips_; }
  const IpRecord* find(std::string_view ip) const;
  std::string_view key(pool::Interner::Id id) const { return keys_.lookup(id); }
  std::string_view target(pool::Interner::Id id) const { return targets_.lookup(id); }
  const pool::Interner& keys() const { return keys_; }
  const pool::Interner& targets() const { return targets_; }
  /// Site names of SiteRecord::site.
  std::string_view site(pool::Interner::Id id) const { return sites_.lookup(id); }
  const pool::Interner& sites() const { return sites_; }
  /// How targets are grouped into sites (for /probe?target= and the proxy's requests).
  const pool::SiteGrouper& grouper() const { return grouper_; }
  /// Site records held over every IP.
  std::size_t sites_tracked() const;
  /// The record `r` keeps for `site` (a grouped site name, as site_of() gives), or nullptr.
  const SiteRecord* site_record(const IpRecord& r, std::string_view site) const;

  /// Up to `limit` most recent decisions, newest first (at most config decisions_kept).
  std::vector<DecisionRecord> latest_decisions(std::size_t limit) const;
  /// Decisions with seq > `after`, oldest first (those still kept): for a log sink.
  std::vector<DecisionRecord> decisions_after(std::uint64_t after) const;
  std::uint64_t last_decision_seq() const { return next_seq_ - 1; }

  const PoolCounters& counters() const { return counters_; }
  bool all_unavailable() const { return all_unavailable_; }
  std::uint32_t count(pool::IpState s) const;

  /// Increases whenever something selection reads changed (state, egress set, weights).
  std::uint64_t selection_version() const { return selection_version_; }
  /// What selection needs now (the schedule is left to Selector::publish). Builds again only
  /// the chunks of entries (SnapshotEntries) holding an IP whose selection inputs changed
  /// since the last call, and the per-site rules only when a site's state changed; the rest
  /// is shared with the snapshot built before.
  pool::Snapshot snapshot() const;

  /// The cooldown an ejection at time `at` would get with `multiplier` (exposed for tests).
  pool::Duration cooldown_for(std::string_view ip, pool::TimePoint at, double multiplier) const;

  const config::Config& config() const { return cfg_; }

 private:
  // A scope of the health machine: the egress as a whole (site == nullptr) or one site of it.
  // Pointers into IpRecord::sites are valid until that vector changes.
  struct Scope {
    IpRecord& ip;
    SiteRecord* site = nullptr;
    Health& health() const {
      if (site != nullptr)
        return *site;
      return ip;
    }
  };

  IpRecord* find_mutable(std::string_view ip);
  IpRecord* find_mutable(std::string_view ip, std::uint32_t hash);
  void apply(const pool::LogEvent& e, std::uint32_t ip_hash);
  void advance(Scope s, pool::TimePoint t);
  void advance_all(IpRecord& r, pool::TimePoint t);
  IpRecord* prepare_manual_release(std::string_view ip, pool::TimePoint now);
  void decay(Scope s, pool::TimePoint t);
  void on_outcome(IpRecord& r, Outcome o, pool::TimePoint t, const Cause& cause, bool dial,
                  pool::Interner::Id site);
  void on_site_outcome(IpRecord& r, Outcome o, pool::TimePoint t, const Cause& cause,
                       pool::Interner::Id site);
  void add_failure(Scope s, pool::TimePoint t, pool::TimePoint now, const Cause& cause, bool dial);
  void check_many_sites(IpRecord& r, pool::TimePoint now, const Cause& cause);
  void trip(Scope s, pool::TimePoint t, const Cause& cause, bool from_probation,
            std::string why = {});
  void to_probation(Scope s, pool::TimePoint at, std::string reason);
  std::size_t out_at(pool::TimePoint t, const IpRecord& except) const;
  std::size_t out_for_site_at(pool::TimePoint t, pool::Interner::Id site,
                              const IpRecord& except) const;
  std::size_t ejection_cap() const;
  void transition(Scope s, pool::IpState to, pool::TimePoint at, DecisionKind kind,
                  std::string reason, const Cause& cause, pool::TimePoint until = {});
  std::string jitter_seed(Scope s) const;

  // Per-site records.
  pool::Interner::Id site_of_target(pool::Interner::Id target, std::string_view text);
  // A target named by a command or a dial (no interned target id): grouped, then interned.
  pool::Interner::Id site_of_text(std::string_view target);
  SiteRecord& site_record(IpRecord& r, pool::Interner::Id site, pool::TimePoint now);
  SiteRecord* find_site(IpRecord& r, pool::Interner::Id site);
  // unban_site (backoff kept) and reset_site (backoff forgotten).
  SiteCommand lift_site(std::string_view ip, std::string_view target, pool::TimePoint now,
                        bool forget_backoff);
  void forget_if_healthy(IpRecord& r, SiteRecord& s);
  void forget_healthy_sites(IpRecord& r);
  std::size_t site_cap() const;

  // Interners: when one is full, free what nothing refers to any more.
  pool::Interner::Id intern_key(std::string_view s);
  pool::Interner::Id intern_target(std::string_view s);
  pool::Interner::Id intern_site(std::string_view s);
  void reclaim_history_ids();
  void reclaim_site_ids();
  DecisionRecord& record(DecisionRecord d);
  void update_pool_flags(pool::TimePoint at, const Cause& cause);
  void add_ip(pool::Egress e);
  void recount();
  // What changed for selection: bump selection_version_ and mark what the next snapshot()
  // builds again (the IP's chunk; every chunk; the per-site rules).
  void selection_changed(const IpRecord& r);
  void selection_changed_all();
  void site_rules_changed();
  pool::SnapshotEntry snapshot_entry(const IpRecord& r, bool least_bad, double best) const;
  std::vector<pool::SiteRules> site_rules() const;
#ifndef NDEBUG
  void check_snapshot(const pool::Snapshot& s, bool least_bad, double best) const;
#endif

  config::Config cfg_;
  std::vector<IpRecord> ips_;
  // ip -> position in ips_ (flat, looked up by string_view without allocating).
  pool::StringIndex index_;
  static pool::StringIndex::Id position(const pool::StringIndex& index,
                                        const std::vector<IpRecord>& records, std::string_view ip);
  pool::Interner keys_;
  pool::Interner targets_;
  pool::Interner sites_;
  pool::SiteGrouper grouper_;
  // target id -> site id (kUnset: not computed yet), so a target's site is grouped once.
  static constexpr pool::Interner::Id kUnset = UINT32_MAX;
  std::vector<pool::Interner::Id> site_of_target_;
  std::deque<DecisionRecord> decisions_;
  std::uint64_t next_seq_ = 1;
  PoolCounters counters_;
  std::array<std::uint32_t, pool::kIpStateCount> state_counts_{};
  bool all_unavailable_ = false;
  std::uint64_t selection_version_ = 1;
  // The snapshot cache (mutable: snapshot() is a read that remembers what it built).
  mutable pool::SnapshotEntries built_;
  mutable std::vector<bool> dirty_chunks_;  // by chunk of built_
  mutable bool all_dirty_ = true;
  mutable bool built_least_bad_ = false;  // built_ holds the least_bad fallback's entries
  mutable bool site_rules_dirty_ = true;
  mutable std::vector<pool::SiteRules> site_rules_;
};

}  // namespace ipm::strategy
