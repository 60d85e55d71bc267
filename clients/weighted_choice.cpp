#include "clients/weighted_choice.hpp"

#include <cmath>
#include <limits>

namespace ipm::clients {

namespace {

std::uint64_t fnv1a(std::string_view s) {
  std::uint64_t h = 1469598103934665603ULL;
  for (const unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

// splitmix64's finaliser: FNV alone mixes the last bytes poorly, and the score needs every
// bit of the (key, candidate) pair to move the result.
std::uint64_t mix(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace

std::optional<std::size_t> SmoothRotation::next(std::span<const Candidate> candidates) {
  std::int64_t total = 0;
  std::optional<std::size_t> best;
  std::int64_t best_current = 0;
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    const Candidate& c = candidates[i];
    if (c.weight == 0)
      continue;
    auto& current = current_[std::string(c.id)];
    current += c.weight;
    total += c.weight;
    if (!best || current > best_current) {
      best = i;
      best_current = current;
    }
  }
  if (!best)
    return std::nullopt;
  current_[std::string(candidates[*best].id)] -= total;
  // Candidates that left (banned, removed) keep no state for ever: once the map holds far
  // more than is offered, start over (a fresh cycle, as a new client would get).
  if (current_.size() > 2 * candidates.size() + 16)
    current_.clear();
  return best;
}

std::optional<std::size_t> rendezvous(std::string_view key, std::span<const Candidate> candidates) {
  const std::uint64_t key_hash = fnv1a(key);
  std::optional<std::size_t> best;
  double best_score = -std::numeric_limits<double>::infinity();
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    const Candidate& c = candidates[i];
    if (c.weight == 0)
      continue;
    const std::uint64_t h = mix(key_hash ^ mix(fnv1a(c.id)));
    // A uniform draw in (0, 1) from the top 53 bits; -w / ln(u) is the weighted score whose
    // maximum is candidate i with probability w_i / sum(w).
    const double u = (static_cast<double>(h >> 11) + 0.5) * 0x1.0p-53;
    const double score = -static_cast<double>(c.weight) / std::log(u);
    if (score > best_score) {
      best = i;
      best_score = score;
    }
  }
  return best;
}

SessionUser split_session(std::string_view username) {
  static constexpr std::string_view kMarker = "-session-";
  const auto at = username.rfind(kMarker);
  if (at == std::string_view::npos || at == 0 || at + kMarker.size() == username.size())
    return {username, {}};
  return {username.substr(0, at), username.substr(at + kMarker.size())};
}

}  // namespace ipm::clients
