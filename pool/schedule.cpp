#include <algorithm>
#include <cmath>
#include <cstdint>
#include <tuple>

#include "pool/selector.hpp"

namespace ipm::pool {
namespace {

constexpr double kMaxSlots = 65536.0;

// Smallest scale S (<= 100) at which share x S is close to a whole number of slots, so a
// probation share of 0.1 costs 10 slots per healthy IP rather than 100.
double share_scale(const Snapshot& s) {
  double worst = 1.0;
  for (const auto& e : s.ips) {
    if (e.selectable && e.share > 0.0 && e.share < 1.0)
      worst = std::min(worst, e.share);
  }
  if (worst >= 1.0)
    return 1.0;
  for (int scale = 1; scale <= 100; ++scale) {
    const double slots = worst * scale;
    if (slots >= 1.0 && std::abs(slots - std::round(slots)) / slots < 0.05)
      return scale;
  }
  return 100.0;
}

}  // namespace

std::vector<std::uint32_t> build_schedule(const Snapshot& s, config::Selection policy) {
  const bool use_weight =
      policy == config::Selection::weighted || policy == config::Selection::least_conn;
  const double scale = share_scale(s);

  std::vector<double> want(s.ips.size(), 0.0);
  double total = 0.0;
  for (std::size_t i = 0; i < s.ips.size(); ++i) {
    const auto& e = s.ips[i];
    if (!e.selectable || e.share <= 0.0)
      continue;
    const double weight = use_weight ? std::max<std::uint32_t>(e.egress.weight, 1) : 1.0;
    want[i] = weight * e.share * scale;
    total += want[i];
  }
  const double shrink = total > kMaxSlots ? kMaxSlots / total : 1.0;
  std::vector<std::uint32_t> count(want.size(), 0);
  bool one_each = true;
  for (std::size_t i = 0; i < want.size(); ++i) {
    if (want[i] <= 0.0)
      continue;
    count[i] = static_cast<std::uint32_t>(std::max(1.0, std::round(want[i] * shrink)));
    one_each = one_each && count[i] == 1;
  }
  std::vector<std::uint32_t> schedule;
  if (one_each) {
    // Equal weights and shares (or a pool too large for more): the stride order below is
    // the index order, so a large pool's state change costs no sort.
    for (std::size_t i = 0; i < count.size(); ++i) {
      if (count[i] != 0)
        schedule.push_back(static_cast<std::uint32_t>(i));
    }
    return schedule;
  }

  // Stride scheduling: IP i with k slots sits at virtual times (j + 0.5) / k; sorting all
  // slots by time interleaves them as evenly as smooth weighted round robin does, in
  // O(W log W) instead of SWRR's O(W x n).
  std::vector<std::tuple<double, std::uint32_t>> slots;
  for (std::size_t i = 0; i < count.size(); ++i) {
    const std::uint32_t k = count[i];
    for (std::uint32_t j = 0; j < k; ++j)
      slots.emplace_back((j + 0.5) / k, static_cast<std::uint32_t>(i));
  }
  std::sort(slots.begin(), slots.end());
  schedule.reserve(slots.size());
  for (const auto& slot : slots)
    schedule.push_back(std::get<1>(slot));
  return schedule;
}

}  // namespace ipm::pool
