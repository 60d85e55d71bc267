#include "app/check_schedule.hpp"

#include <algorithm>

namespace ipm::app {

CheckSchedule::CheckSchedule(std::vector<config::Millis> intervals, pool::TimePoint start)
    : intervals_(std::move(intervals)) {
  const auto n = static_cast<long>(intervals_.size());
  next_.reserve(intervals_.size());
  for (long i = 0; i < n; ++i)
    next_.push_back(start + intervals_[static_cast<std::size_t>(i)] * i / n);
}

std::vector<std::size_t> CheckSchedule::due(pool::TimePoint now) {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < next_.size(); ++i) {
    if (next_[i] <= now) {
      out.push_back(i);
      next_[i] = now + intervals_[i];
    }
  }
  return out;
}

pool::TimePoint CheckSchedule::next() const {
  if (next_.empty())
    return pool::TimePoint::max();
  return *std::min_element(next_.begin(), next_.end());
}

}  // namespace ipm::app
