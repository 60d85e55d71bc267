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

/// One selected egress. Holds the snapshot it came from (so egress() stays valid) and counts
/// as one active connection on that egress until destroyed: keep it for the lifetime of the
/// proxied connection. Move-only.
class Pick {
 public:
  Pick(std::shared_ptr<const Snapshot> snapshot, std::uint32_t index);
  Pick(Pick&& other) noexcept;
  Pick& operator=(Pick&& other) noexcept;
  Pick(const Pick&) = delete;
  Pick& operator=(const Pick&) = delete;
  ~Pick();

  const Egress& egress() const { return entry().egress; }
  IpState state() const { return entry().state; }
  /// Chosen by the all-unavailable least_bad fallback (the IP is cooling).
  bool fallback() const { return snapshot_->least_bad_fallback; }
  std::uint32_t index() const { return index_; }
  const Snapshot& snapshot() const { return *snapshot_; }

 private:
  const SnapshotEntry& entry() const { return snapshot_->ips[index_]; }
  void release();

  std::shared_ptr<const Snapshot> snapshot_;
  std::uint32_t index_ = 0;
};

/// Chooses an egress for each client connection from the current snapshot.
///
/// Policies (config `selection`): random (uniform, the Go tool's), round_robin, weighted
/// (per-IP weight, smooth interleaving) and least_conn (power of two choices on active
/// connections, weighted). Probation IPs get `share` of a healthy IP's draws; least_conn
/// does not rebalance them by connection count, so the probation share holds under it too.
/// Never returns an IP that is not selectable in the snapshot.
///
/// Thread-safety: pick() and snapshot() are lock-free reads of an atomically swapped
/// snapshot and may run on any thread. publish() may also be called from any thread
/// (publishers are serialized by an internal mutex that pick() never takes).
class Selector {
 public:
  explicit Selector(config::Selection policy);
  Selector(const Selector&) = delete;
  Selector& operator=(const Selector&) = delete;

  /// Makes `next` the current snapshot: attaches the active-connection counters (kept for
  /// IPs that stay), builds the selection schedule for the policy, and swaps it in.
  void publish(Snapshot next);

  /// An egress for a new connection, skipping the IPs in `exclude` (those a caller already
  /// tried and failed to dial). nullopt when nothing selectable remains.
  std::optional<Pick> pick(std::span<const std::string> exclude = {});

  /// The current snapshot (never null: empty before the first publish).
  std::shared_ptr<const Snapshot> snapshot() const;

  config::Selection policy() const { return policy_; }

 private:
  std::optional<std::uint32_t> choose(const Snapshot& s, std::span<const std::string> exclude);
  std::uint32_t draw(const Snapshot& s);

  const config::Selection policy_;
  std::atomic<std::shared_ptr<const Snapshot>> current_;
  std::atomic<std::uint64_t> cursor_{0};  // round_robin / weighted position in the schedule
  std::mutex publish_mutex_;
  std::unordered_map<std::string, std::shared_ptr<ActiveCount>> counters_;  // by IP
};

/// Builds the smooth schedule for `s` under `policy` (exposed for tests and benchmarks):
/// IP i gets slots proportional to weight_i x share_i (weight 1 unless the policy is weighted
/// or least_conn), at most ~65,536 slots in all, each selectable IP at least one.
std::vector<std::uint32_t> build_schedule(const Snapshot& s, config::Selection policy);

}  // namespace ipm::pool
