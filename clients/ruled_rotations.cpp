#include "clients/ruled_rotations.hpp"

namespace ipm::clients {

std::vector<Candidate> RuledRotations::weights_for(const SourceIpRules& rules,
                                                   const ClientAddress& client,
                                                   std::span<const Candidate> offered) {
  std::vector<Candidate> out(offered.begin(), offered.end());
  for (Candidate& c : out)
    if (const SourceIpRule* rule = rules.match(c.id, client))
      c.weight = rule->ratio;
  return out;
}

std::optional<std::size_t> RuledRotations::pick(const SourceIpRules& rules,
                                                const ClientAddress& client,
                                                std::span<const Candidate> offered) {
  return pick_weighted(client, weights_for(rules, client, offered));
}

std::optional<std::size_t> RuledRotations::pick_weighted(const ClientAddress& client,
                                                         std::span<const Candidate> weighted) {
  const std::lock_guard lock(mutex_);
  if (rotations_.size() >= max_clients_ && !rotations_.contains(client))
    rotations_.clear();
  return rotations_[client].next(weighted);
}

std::size_t RuledRotations::clients() const {
  const std::lock_guard lock(mutex_);
  return rotations_.size();
}

}  // namespace ipm::clients
