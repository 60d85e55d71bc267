#pragma once

#include <cstddef>
#include <mutex>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include "clients/client_address.hpp"
#include "clients/source_ip_rules.hpp"
#include "clients/weighted_choice.hpp"

namespace ipm::clients {

/// The picks of clients that source_ip_rules name. Each such client rotates over the egresses
/// offered to it with its own SmoothRotation, each egress weighing the ratio of the client's
/// longest matching rule for it (or the egress's own weight when no rule of that egress names
/// the client), so the file's ratios hold exactly over each cycle for every client.
///
/// At most `max_clients` rotations are kept; past that they all start a fresh cycle (a
/// subnet rule can name millions of addresses). Thread-safe.
class RuledRotations {
 public:
  explicit RuledRotations(std::size_t max_clients = 65536) : max_clients_(max_clients) {}
  RuledRotations(const RuledRotations&) = delete;
  RuledRotations& operator=(const RuledRotations&) = delete;

  /// `offered` holds the egresses the request may use (selectable, not yet tried) with their
  /// default weights. Returns the index of the pick, or nullopt when the client's ratios are
  /// 0 on every offered egress (it may use none of them).
  std::optional<std::size_t> pick(const SourceIpRules& rules, const ClientAddress& client,
                                  std::span<const Candidate> offered);

  /// The next pick of `client`'s rotation over candidates already weighted for it (what
  /// weights_for() gives, perhaps adjusted by the caller); nullopt when every weight is 0.
  std::optional<std::size_t> pick_weighted(const ClientAddress& client,
                                           std::span<const Candidate> weighted);

  /// The client's weights on `offered`, as pick() uses them.
  static std::vector<Candidate> weights_for(const SourceIpRules& rules, const ClientAddress& client,
                                            std::span<const Candidate> offered);

  std::size_t clients() const;

 private:
  const std::size_t max_clients_;
  mutable std::mutex mutex_;
  std::unordered_map<ClientAddress, SmoothRotation, ClientAddressHash> rotations_;
};

}  // namespace ipm::clients
