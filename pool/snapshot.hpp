#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "config/config.hpp"
#include "pool/egress.hpp"
#include "pool/ip_state.hpp"

namespace ipm::pool {

/// Active connections of one egress, shared by every snapshot that lists the IP so that a
/// connection opened against one snapshot is still counted after the next is published.
struct ActiveCount {
  std::atomic<std::uint32_t> value{0};
};

/// What a Pick holds on to: the egress and its connection count, shared per IP so that a
/// pick touches only its own IP's reference counts, never one shared by every thread.
struct PickTarget {
  Egress egress;
  std::shared_ptr<ActiveCount> active;
};

/// What selection needs to know about one egress IP.
struct SnapshotEntry {
  Egress egress;
  IpState state = IpState::available;
  /// May get traffic now. True for available and probation IPs, and for the least-bad
  /// cooling IPs while the whole pool is unavailable under `all_unavailable: least_bad`.
  bool selectable = false;
  /// Traffic share relative to a healthy IP of the same weight: 1, probation_share, or 0.
  double share = 0.0;
  /// Filled by Selector::publish; never null in a published snapshot.
  std::shared_ptr<ActiveCount> active;
  std::shared_ptr<const PickTarget> target;  ///< filled by Selector::publish
};

/// An immutable view of the pool, built by the strategy engine after every change that
/// matters for selection and published by Selector::publish. Readers hold it by
/// shared_ptr<const Snapshot> and need no lock.
struct Snapshot {
  std::vector<SnapshotEntry> ips;  ///< in upstream-config order
  /// No IP is available or on probation (manual bans and cooling IPs only).
  bool all_unavailable = false;
  /// The all-unavailable fallback is in force: least-bad cooling IPs are selectable.
  bool least_bad_fallback = false;
  std::array<std::uint32_t, kIpStateCount> count_by_state{};  ///< indexed by IpState
  std::uint64_t version = 0;                                  ///< strictly increasing per engine

  /// Filled by Selector::publish: indices into `ips`, each selectable IP appearing in
  /// proportion to weight x share, interleaved smoothly (stride scheduling, the
  /// smoothness nginx's smooth weighted round robin gives). Empty when nothing is selectable.
  std::vector<std::uint32_t> schedule;
  /// Filled by Selector::publish: the policy `schedule` was built for (they change together).
  config::Selection policy = config::Selection::least_conn;

  std::uint32_t count(IpState s) const { return count_by_state[static_cast<std::size_t>(s)]; }
  std::size_t selectable_count() const;
  /// Index of `ip` in `ips`, or -1.
  std::ptrdiff_t find(std::string_view ip) const;
};

}  // namespace ipm::pool
