#pragma once

#include <chrono>

namespace ipm::pool {

/// Event time: wall-clock instants, because nginx logs carry wall-clock timestamps and
/// decisions are made on the time an event happened, not on when it was read.
using Clock = std::chrono::system_clock;
using TimePoint = Clock::time_point;
using Duration = std::chrono::nanoseconds;

}  // namespace ipm::pool
