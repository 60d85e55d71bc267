#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>

#include "config/config.hpp"
#include "pool/snapshot.hpp"

namespace ipm::pool {

/// One selected egress. Counts as one active connection on that egress until destroyed:
/// keep it for the lifetime of the proxied connection. Move-only; egress() stays valid for
/// the Pick's lifetime whatever is published meanwhile.
class Pick {
 public:
  Pick(const Candidate& candidate, std::uint32_t index, bool fallback);
  Pick(Pick&& other) noexcept = default;
  Pick& operator=(Pick&& other) noexcept;
  Pick(const Pick&) = delete;
  Pick& operator=(const Pick&) = delete;
  ~Pick();

  const Egress& egress() const { return target_->egress; }
  /// The IP's state in the snapshot it was picked from.
  IpState state() const { return state_; }
  /// Chosen by the all-unavailable least_bad fallback (the IP is cooling).
  bool fallback() const { return fallback_; }
  /// Position of the IP in the snapshot it was picked from.
  std::uint32_t index() const { return index_; }

 private:
  void release();

  std::shared_ptr<const PickTarget> target_;
  std::uint32_t index_ = 0;
  IpState state_ = IpState::available;
  bool fallback_ = false;
};

/// Chooses an egress for each client connection from the current snapshot.
///
/// Policies (config `selection`): random (uniform, the Go tool's), round_robin, weighted
/// (per-IP weight, smooth interleaving) and least_conn (power of two choices on active
/// connections, weighted). Probation IPs get `share` of a healthy IP's draws; least_conn
/// does not rebalance them by connection count, so the probation share holds under it too.
/// Never returns an IP that is not selectable in the snapshot.
///
/// Thread-safety: pick() and snapshot() may run on any thread. pick() reads a per-thread copy
/// of the current snapshot and takes no lock, except a brief one to refresh that copy once
/// after each publish, so concurrent picks share no written cache line but their own IP's counters
/// (a thread keeps its last snapshot alive until its next pick). publish() may also be called from
/// any thread (publishers are serialized by an internal mutex that pick() never takes).
class Selector {
 public:
  explicit Selector(config::Selection policy);
  Selector(const Selector&) = delete;
  Selector& operator=(const Selector&) = delete;

  /// Makes `next` the current snapshot: attaches the active-connection counters where its
  /// entries have none (kept for IPs that stay), builds the selection schedule for the
  /// policy, and swaps it in.
  void publish(Snapshot next);

  /// Switches the selection policy (a SIGHUP reload): the current snapshot is republished
  /// with a schedule for `policy`, and every later publish uses it.
  void set_policy(config::Selection policy);

  /// An egress for a new connection that can serve `request` (kind and address family, see
  /// can_serve()), skipping the IPs in `exclude` (those a caller already tried and failed to
  /// dial). nullopt when nothing selectable remains.
  /// With a `request.site`, the IPs cooling or banned for that site are skipped and those on
  /// probation for it get their probation share of its draws; when every IP that can serve
  /// the request is out for the site, the pick is made as without a site (the per-site
  /// ejection cap makes that rare). Without a site, or for a site nothing failed for, the
  /// pick is exactly the site-less one. Lock-free either way.
  std::optional<Pick> pick(const Request& request, std::span<const std::string> exclude = {});
  /// Whether the current snapshot has rules for any site: callers skip grouping a target
  /// into its site (libpsl) when it has none.
  bool has_site_rules();
  /// An nginx egress (the tcp front end).
  std::optional<Pick> pick(std::span<const std::string> exclude = {}) {
    return pick(kNginxRequest, exclude);
  }

  /// The current snapshot (never null: empty before the first publish).
  std::shared_ptr<const Snapshot> snapshot() const;

  config::Selection policy() const { return policy_.load(std::memory_order_relaxed); }

 private:
  std::optional<std::uint32_t> choose(const Snapshot& s, const Request& request,
                                      std::span<const std::string> exclude, const SiteRules* rules,
                                      std::uint32_t first);  // `first`: pick()'s first draw
  std::uint32_t draw(const Snapshot& s);

  const std::shared_ptr<const Snapshot>& current_for_this_thread();
  void swap_in(Snapshot next);          // with publish_mutex_ held
  void attach_targets(Snapshot& next);  // with publish_mutex_ held

  std::atomic<config::Selection> policy_;  // written with publish_mutex_ held
  const std::uint64_t id_;  // tells this selector's entry in a thread's cache from another's
  // Not std::atomic<shared_ptr>: libstdc++ 12 implements it with a lock bit that TSan cannot
  // see through. A thread takes this mutex only to refresh its cached copy, once per publish.
  mutable std::mutex current_mutex_;
  std::shared_ptr<const Snapshot> current_;
  std::atomic<std::uint64_t> generation_{0};
  std::atomic<std::uint64_t> cursor_{0};  // round_robin / weighted position in the schedule
  std::mutex publish_mutex_;
  // By IP, for snapshots built by hand (the engine's carry their counters).
  std::unordered_map<std::string, std::shared_ptr<ActiveCount>> counters_;
};

/// Builds the smooth schedule for `s` under `policy` (exposed for tests and benchmarks): IP i
/// gets positions proportional to weight_i x share_i (weight 1 unless the policy is weighted
/// or least_conn). With `before`, the pieces of the chunks `s` shares with it are kept.
Schedule build_schedule(const Snapshot& s, config::Selection policy,
                        const Snapshot* before = nullptr);

}  // namespace ipm::pool
