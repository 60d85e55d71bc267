#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include "config/duration.hpp"

namespace ipm::proxy {

/// When an accept loop retries after accept(2) failed (out of descriptors above all: the
/// pending client stays in the backlog and the same call fails again at once). The wait
/// doubles from `kFirst` to `kCap` across one *episode*: from the first failure until the
/// backlog is drained (accept says EAGAIN), so a loop that gets one client through now and then
/// keeps waiting long between tries, and the operator reads one line when an episode starts
/// and one when it ends, never one per failure. Plain C++, time passed in; not thread-safe.
class AcceptBackoff {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr config::Millis kFirst{10};
  static constexpr config::Millis kCap{1000};

  /// An accept failed at `now`: how long to wait before trying again.
  config::Millis failed(Clock::time_point now);

  /// True after failed() and before the episode ends.
  bool in_episode() const { return failures_ > 0; }
  /// True when the last failed() started an episode (the moment to log it).
  bool episode_started() const { return failures_ == 1; }

  /// How an episode went, given when it ends.
  struct Episode {
    std::uint64_t failures = 0;
    Clock::duration lasted{};
  };
  /// The backlog is drained at `now`: ends the episode, if one runs, and says how it went.
  std::optional<Episode> drained(Clock::time_point now);

 private:
  std::uint64_t failures_ = 0;
  config::Millis next_ = kFirst;
  Clock::time_point started_{};
};

}  // namespace ipm::proxy
