#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "pool/time.hpp"

namespace ipm::pool {

/// One operator command on an egress, as the API receives it and the journal keeps it
/// (app/action_journal.hpp), so that it survives a restart.
struct OperatorAction {
  /// disable / enable: no new connections through the egress (open ones go on), whatever its
  /// health, until enabled; the state machine goes on meanwhile.
  enum class Kind : std::uint8_t { ban, unban, reset, weight, disable, enable };

  Kind kind = Kind::ban;
  std::string ip;                      ///< the egress id
  TimePoint time{};                    ///< when it was made
  TimePoint until = TimePoint::max();  ///< ban: its end (max: until unbanned)
  std::string reason;                  ///< ban: the operator's words
  std::uint32_t weight = 1;            ///< weight: the new weight (0 drains)
  std::string client;                  ///< who: the API client's address
  /// ban, unban, reset: the target site they are about ("a.example", grouped like a log
  /// line's target); empty: the egress for every site. Weights are per egress.
  std::string target;

  friend bool operator==(const OperatorAction&, const OperatorAction&) = default;
};

std::string_view to_string(OperatorAction::Kind k);

}  // namespace ipm::pool
