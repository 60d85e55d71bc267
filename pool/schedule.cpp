#include "pool/schedule.hpp"

#include <algorithm>
#include <cmath>
#include <tuple>

namespace ipm::pool {
namespace {

constexpr double kMaxSlots = 65536.0;

// Smallest scale S (<= 100) at which `worst` x S is close to a whole number of positions, so
// a probation share of 0.1 costs 10 positions per healthy IP rather than 100.
double scale_for(double worst) {
  if (worst >= 1.0)
    return 1.0;
  for (int scale = 1; scale <= 100; ++scale) {
    const double slots = worst * scale;
    if (slots >= 1.0 && std::abs(slots - std::round(slots)) / slots < 0.05)
      return scale;
  }
  return 100.0;
}

double want_of(const SnapshotEntry& e, bool use_weight) {
  if (!e.selectable || e.share <= 0.0)
    return 0.0;
  const double weight = use_weight ? std::max<std::uint32_t>(e.egress.weight, 1) : 1.0;
  return weight * e.share;
}

}  // namespace

Schedule::ChunkStats Schedule::stats_of(const SnapshotEntries::Chunk& chunk, bool use_weight) {
  ChunkStats st;
  for (const auto& e : chunk) {
    const double want = want_of(e, use_weight);
    if (want <= 0.0)
      continue;
    if (e.share < 1.0)
      st.worst_share = std::min(st.worst_share, e.share);
    st.want += want;
    st.max_want = std::max(st.max_want, want);
  }
  return st;
}

std::uint32_t Schedule::positions_of(const SnapshotEntry& e, const Scales& scales) {
  const double want = want_of(e, scales.use_weight);
  if (want <= 0.0)
    return 0;
  return static_cast<std::uint32_t>(std::max(1.0, std::round(want * scales.scale * scales.shrink)));
}

std::shared_ptr<const Schedule::Piece> Schedule::make_piece(const SnapshotEntries::Chunk& chunk,
                                                            std::uint32_t first,
                                                            const Scales& scales) {
  // (round << 32 | index): sorted, the piece's order.
  std::vector<std::uint64_t> keys;
  for (std::uint32_t j = 0; j < chunk.size(); ++j) {
    const std::uint64_t k = positions_of(chunk[j], scales);
    for (std::uint64_t t = 0; t < k; ++t) {
      const std::uint64_t round = (2 * t + 1) * scales.rounds / (2 * k);
      keys.push_back(round << 32 | (first + j));
    }
  }
  if (scales.rounds > 1)
    std::sort(keys.begin(), keys.end());  // with one round the keys are in index order
  auto piece = std::make_shared<Piece>();
  piece->candidates.reserve(chunk.size());
  for (const auto& e : chunk) {
    piece->candidates.push_back(Candidate{.active = e.active.get(),
                                          .weight = std::max<std::uint32_t>(e.egress.weight, 1),
                                          .share = static_cast<float>(e.share),
                                          .kind = e.egress.kind,
                                          .family = e.egress.family,
                                          .state = e.state,
                                          .target = e.target});
  }
  piece->slots.reserve(keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const auto round = static_cast<std::uint32_t>(keys[i] >> 32);
    if (i == 0 || round != piece->run_rounds.back()) {
      piece->run_rounds.push_back(round);
      piece->run_begins.push_back(static_cast<std::uint32_t>(i));
    }
    piece->slots.push_back(static_cast<std::uint32_t>(keys[i]));
  }
  return piece;
}

Schedule Schedule::build(const SnapshotEntries& ips, bool use_weight,
                         const SnapshotEntries* before_ips, const Schedule* before) {
  const std::size_t chunks = ips.chunk_count();
  const auto unchanged = [&](std::size_t c) {
    return before != nullptr && before_ips != nullptr && c < before_ips->chunk_count() &&
           c < before->pieces_.size() && ips.chunk(c) == before_ips->chunk(c);
  };
  Schedule s;
  s.scales_.use_weight = use_weight;
  const bool stats_kept = before != nullptr && before->scales_.use_weight == use_weight;
  double worst = 1.0;
  double total = 0.0;
  double max_want = 0.0;
  s.stats_.reserve(chunks);
  for (std::size_t c = 0; c < chunks; ++c) {
    s.stats_.push_back(stats_kept && unchanged(c) ? before->stats_[c]
                                                  : stats_of(*ips.chunk(c), use_weight));
    worst = std::min(worst, s.stats_.back().worst_share);
    total += s.stats_.back().want;
    max_want = std::max(max_want, s.stats_.back().max_want);
  }
  s.scales_.scale = scale_for(worst);
  // A power of two, so that the pool's changes seldom move it (each move builds every piece).
  while (total * s.scales_.scale * s.scales_.shrink > kMaxSlots)
    s.scales_.shrink /= 2;
  s.scales_.rounds = max_want > 0.0
                         ? static_cast<std::uint32_t>(std::max(
                               1.0, std::round(max_want * s.scales_.scale * s.scales_.shrink)))
                         : 0;

  const bool pieces_kept = before != nullptr && before->scales_ == s.scales_;
  s.pieces_.reserve(chunks);
  for (std::size_t c = 0; c < chunks; ++c) {
    if (pieces_kept && unchanged(c)) {
      s.pieces_.push_back(before->pieces_[c]);
    } else {
      s.pieces_.push_back(make_piece(
          *ips.chunk(c), static_cast<std::uint32_t>(c * SnapshotEntries::kChunk), s.scales_));
      ++s.pieces_built_;
    }
  }
  s.index_runs();
  return s;
}

void Schedule::index_runs() {
  candidates_.reserve(pieces_.size());
  for (const auto& piece : pieces_)
    candidates_.push_back(piece->candidates.data());
  // (round, chunk, run): the schedule's order. One round: the chunks' order, no sort.
  std::vector<std::tuple<std::uint32_t, std::uint32_t, std::uint32_t>> runs;
  for (std::size_t c = 0; c < pieces_.size(); ++c) {
    for (std::size_t r = 0; r < pieces_[c]->run_rounds.size(); ++r)
      runs.emplace_back(pieces_[c]->run_rounds[r], c, r);
  }
  if (scales_.rounds > 1)
    std::sort(runs.begin(), runs.end());
  ends_.reserve(runs.size());
  starts_.reserve(runs.size());
  for (const auto& [round, c, r] : runs) {
    const Piece& piece = *pieces_[c];
    const std::size_t end =
        r + 1 < piece.run_begins.size() ? piece.run_begins[r + 1] : piece.slots.size();
    size_ += end - piece.run_begins[r];
    ends_.push_back(static_cast<std::uint32_t>(size_));
    starts_.push_back(piece.slots.data() + piece.run_begins[r]);
  }
}

std::uint32_t Schedule::operator[](std::size_t p) const {
  // Runs are of about equal length (a chunk's IPs, or their share of a round), so the run
  // at p's proportion of the schedule is it or a neighbour: a read or two, not a search of
  // the chunks. A pool whose runs differ widely falls back to the binary search.
  const auto pos = static_cast<std::uint32_t>(p);
  const std::size_t runs = ends_.size();
  std::size_t k = static_cast<std::size_t>(static_cast<std::uint64_t>(pos) * runs / size_);
  for (int step = 0; step < 4; ++step) {
    const std::uint32_t start = k == 0 ? 0 : ends_[k - 1];
    if (pos < start) {
      --k;
    } else if (pos >= ends_[k]) {
      ++k;
    } else {
      return starts_[k][pos - start];
    }
  }
  k = static_cast<std::size_t>(std::upper_bound(ends_.begin(), ends_.end(), pos) - ends_.begin());
  const std::uint32_t start = k == 0 ? 0 : ends_[k - 1];
  return starts_[k][pos - start];
}

std::vector<std::uint32_t> Schedule::to_vector() const {
  std::vector<std::uint32_t> out;
  out.reserve(size_);
  for (std::size_t k = 0; k < ends_.size(); ++k) {
    const std::size_t start = k == 0 ? 0 : ends_[k - 1];
    out.insert(out.end(), starts_[k], starts_[k] + (ends_[k] - start));
  }
  return out;
}

}  // namespace ipm::pool
