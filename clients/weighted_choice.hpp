#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>

namespace ipm::clients {

/// An egress a request may use, with the weight it has for this client (0: never).
struct Candidate {
  std::string_view id;
  std::uint32_t weight = 1;
};

/// Smooth weighted rotation (nginx's upstream algorithm) with a state of its own: over any
/// run of sum(weights) picks from an unchanged set, each candidate is picked exactly its
/// weight times, interleaved (5:1 gives 5 of every 6, never 5 in a row then the sixth when
/// another order spreads them). One per ruled client. Not thread-safe.
class SmoothRotation {
 public:
  /// The index in `candidates` of the next pick; nullopt when every weight is 0.
  std::optional<std::size_t> next(std::span<const Candidate> candidates);

 private:
  std::unordered_map<std::string, std::int64_t> current_;
};

/// Weighted rendezvous hashing (highest random weight): the candidate that `key` lands on.
/// The same key lands on the same candidate while it is offered; removing a candidate moves
/// only the keys that were on it, and changing a weight moves only a proportional share.
/// nullopt when every weight is 0.
std::optional<std::size_t> rendezvous(std::string_view key, std::span<const Candidate> candidates);

/// A SOCKS username that carries a sticky-session key: "alice-session-abc123" authenticates
/// as "alice" and keys its session by "abc123" (the convention of rotating proxy providers).
struct SessionUser {
  std::string_view user;
  std::string_view session;  ///< empty when the name has no session part
};
SessionUser split_session(std::string_view username);

}  // namespace ipm::clients
