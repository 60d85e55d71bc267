#pragma once

#include <cstddef>
#include <vector>

#include "config/duration.hpp"
#include "pool/time.hpp"

namespace ipm::app {

/// When each active check runs: check i every intervals[i]. The first runs are spread over
/// the first interval (check i at start + interval * i / n), so a pool of many egresses is not
/// checked all at once. Plain C++ with time passed in. Not thread-safe.
class CheckSchedule {
 public:
  CheckSchedule(std::vector<config::Millis> intervals, pool::TimePoint start);

  /// The checks due at `now`, in index order; each is moved to now + its interval, so a late
  /// run does not make the next ones bunch up.
  std::vector<std::size_t> due(pool::TimePoint now);
  /// When the next check is due (max when there is none).
  pool::TimePoint next() const;

 private:
  std::vector<config::Millis> intervals_;
  std::vector<pool::TimePoint> next_;
};

}  // namespace ipm::app
