#pragma once

// Health decisions for the egress pool: one state machine per IP, driven by event time.
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
// deterministic jitter of +- cool_down_jitter seeded from the IP and the event time. An IP
// that stays available for backoff_decay_after has its multiplier halved (repeatedly, judged
// at its next event).
// On probation an IP starts from a zero count and gets probation_share of a healthy IP's
// traffic; events it receives while cooling or banned go to history only.
//
// Ejection cap. At most max_ejected_percent of the pool (at least one IP when the percent is
// above zero) may be cooling at one event time. A trip beyond the cap does not eject: the IP
// stays in (recorded as eject_capped) and trips again on its next failure, so the IPs that
// stay in are the ones that failed last, as with Envoy's outlier detection. Manual bans are
// the operator's and neither count toward the cap nor are limited by it.
//
// All unavailable. When no IP is available or on probation the pool says so once per change
// (an all_unavailable_enter / _leave decision and a flag), and `all_unavailable` decides:
// `least_bad` lets the cooling IPs with the smallest backoff multiplier take traffic (never
// manually banned ones), `refuse` offers nothing and the proxy closes the client.
//
// Time and order. The engine never reads a clock: every call carries its time. Transitions
// caused by time (end of cooldown, end of ban, decay) are stamped at their deadline, not at
// the tick that noticed them, and are also applied lazily when an event for the IP arrives,
// so the state after a sequence of events does not depend on when tick() ran. Events may
// arrive slightly out of order across log files: an event older than the IP's last
// transition describes the previous state and only goes to history; inside one state, the
// IP's clock is the newest event time seen and never runs backwards. The same events in the
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
};

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
  /// What selection needs now. Counters and schedule are left to Selector::publish.
  pool::Snapshot snapshot() const;

  /// The cooldown an ejection at time `at` would get with `multiplier` (exposed for tests).
  pool::Duration cooldown_for(std::string_view ip, pool::TimePoint at, double multiplier) const;

  const config::Config& config() const { return cfg_; }

 private:
  IpRecord* find_mutable(std::string_view ip);
  void advance(IpRecord& r, pool::TimePoint t);
  IpRecord* prepare_manual_release(std::string_view ip, pool::TimePoint now);
  void decay(IpRecord& r, pool::TimePoint t);
  void on_outcome(IpRecord& r, Outcome o, pool::TimePoint t, const Cause& cause, bool dial);
  void trip(IpRecord& r, pool::TimePoint t, const Cause& cause, bool from_probation);
  void to_probation(IpRecord& r, pool::TimePoint at, std::string reason);
  std::size_t out_at(pool::TimePoint t, const IpRecord& except) const;
  std::size_t ejection_cap() const;
  void transition(IpRecord& r, pool::IpState to, pool::TimePoint at, DecisionKind kind,
                  std::string reason, const Cause& cause, pool::TimePoint until = {});
  DecisionRecord& record(DecisionRecord d);
  void update_pool_flags(pool::TimePoint at, const Cause& cause);
  void add_ip(pool::Egress e);
  void recount();

  config::Config cfg_;
  std::vector<IpRecord> ips_;
  // ip -> position in ips_ (flat, looked up by string_view without allocating).
  pool::StringIndex index_;
  static pool::StringIndex::Id position(const pool::StringIndex& index,
                                        const std::vector<IpRecord>& records, std::string_view ip);
  pool::Interner keys_;
  pool::Interner targets_;
  std::deque<DecisionRecord> decisions_;
  std::uint64_t next_seq_ = 1;
  PoolCounters counters_;
  std::array<std::uint32_t, pool::kIpStateCount> state_counts_{};
  bool all_unavailable_ = false;
  std::uint64_t selection_version_ = 1;
};

}  // namespace ipm::strategy
