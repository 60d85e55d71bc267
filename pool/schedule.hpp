#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "pool/snapshot_entries.hpp"

namespace ipm::pool {

/// What a draw reads of one IP, packed per chunk beside the schedule: a pick reads a small
/// contiguous array for its candidates instead of an entry (a few cache lines each,
/// scattered over the pool) per candidate. The fields a draw compares come first.
struct Candidate {
  ActiveCount* active = nullptr;  ///< the entry's counter (the entry keeps it alive)
  std::uint32_t weight = 1;       ///< the egress's weight, at least 1
  float share = 0.0F;             ///< the entry's share
  EgressKind kind = EgressKind::nginx;
  Family family = Family::any;
  IpState state = IpState::available;
  std::shared_ptr<const PickTarget> target;  ///< what a Pick of the IP holds
};

/// The selection schedule of a snapshot: indices into its entries, each selectable IP
/// appearing in proportion to weight x share (weight 1 unless the policy uses weights), at
/// most ~65,536 positions in all, each selectable IP at least once.
///
/// Order (what round_robin and weighted walk): the cycle is cut into R rounds, R the most
/// positions any IP has; an IP with k positions appears in k of them, spread evenly (its j-th
/// in round floor((j + 0.5) x R / k): stride scheduling, as smooth as nginx's smooth weighted
/// round robin), at most once per round, and a round lists its IPs in index order. With equal
/// weights and shares (R = 1) the schedule is the selectable IPs in index order.
///
/// Built per chunk of entries (SnapshotEntries::kChunk IPs): a piece holds one chunk's
/// positions, and a schedule built with the one before it (build's `before`) shares the
/// pieces of the chunks that did not change. A state change therefore builds one piece plus
/// an index of (round, chunk) runs, the runs in O(chunks) when R = 1; everything is built
/// again only when a pool-wide scale changes (a first probation share, the heaviest IP, the
/// pool crossing a power of two of slots). Immutable once built; reads need no lock.
class Schedule {
 public:
  /// Builds the schedule of `ips`; `before` (may be null) is the schedule of `before_ips`,
  /// whose unchanged chunks (same chunk object at the same position) keep their pieces.
  static Schedule build(const SnapshotEntries& ips, bool use_weight,
                        const SnapshotEntries* before_ips = nullptr,
                        const Schedule* before = nullptr);

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  /// The IP index at position p (< size()): a binary search over the runs, one read.
  std::uint32_t operator[](std::size_t p) const;
  /// What a draw reads of IP i (an index into the entries the schedule was built from).
  const Candidate& candidate(std::uint32_t i) const {
    return candidates_[i / SnapshotEntries::kChunk][i % SnapshotEntries::kChunk];
  }
  /// Every position in order (tests, and the rare full scans).
  std::vector<std::uint32_t> to_vector() const;
  /// Pieces this build made rather than shared with `before` (what a change cost).
  std::size_t pieces_built() const { return pieces_built_; }

 private:
  // What a chunk contributes to the pool-wide scales, independent of them.
  struct ChunkStats {
    double worst_share = 1.0;  // smallest share in (0, 1) of a selectable IP
    double want = 0.0;         // sum of weight x share
    double max_want = 0.0;     // largest weight x share
  };
  // The pool-wide scales a piece is built for; a piece is shared only under the same ones.
  struct Scales {
    bool use_weight = false;
    double scale = 1.0;   // makes the smallest share a whole number of positions
    double shrink = 1.0;  // a power of two <= 1 that keeps the pool under ~65,536 positions
    std::uint32_t rounds = 0;
    friend bool operator==(const Scales&, const Scales&) = default;
  };
  // One chunk's positions ordered by (round, index), cut into runs of one round each.
  struct Piece {
    std::vector<std::uint32_t> slots;  // IP indices into the snapshot's entries
    std::vector<std::uint32_t> run_rounds;
    std::vector<std::uint32_t> run_begins;  // into slots; a run ends where the next begins
    std::vector<Candidate> candidates;      // one per entry of the chunk
  };

  static ChunkStats stats_of(const SnapshotEntries::Chunk& chunk, bool use_weight);
  static std::shared_ptr<const Piece> make_piece(const SnapshotEntries::Chunk& chunk,
                                                 std::uint32_t first, const Scales& scales);
  static std::uint32_t positions_of(const SnapshotEntry& e, const Scales& scales);
  void index_runs();

  Scales scales_;
  std::vector<ChunkStats> stats_;                     // per chunk
  std::vector<std::shared_ptr<const Piece>> pieces_;  // per chunk
  // The runs in schedule order: run k covers positions [ends_[k-1], ends_[k]) and reads
  // them from starts_[k] (into a piece held by pieces_).
  std::vector<std::uint32_t> ends_;
  std::vector<const std::uint32_t*> starts_;
  std::vector<const Candidate*> candidates_;  // per chunk: its piece's candidates
  std::size_t size_ = 0;
  std::size_t pieces_built_ = 0;
};

}  // namespace ipm::pool
