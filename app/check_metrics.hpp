#pragma once

#include <array>
#include <string_view>

#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include "config/dispatch.hpp"
#include "pool/event.hpp"

namespace ipm::app {

/// The result label of an active check's outcome: the dial's result (pool::to_string), or
/// `bad_status` when an http check got through but its answer was not a 2xx or 3xx status line.
std::string_view check_result(const pool::DialOutcome& outcome);

/// ipmanager_egress_checks_total{kind,result}: active checks run, by the egress kind they went
/// through (source, upstream) and their result; every series exists from the start, so a rate
/// over them needs no first check. Thread-safe (prometheus-cpp counters).
class CheckMetrics {
 public:
  explicit CheckMetrics(prometheus::Registry& registry);
  CheckMetrics(const CheckMetrics&) = delete;
  CheckMetrics& operator=(const CheckMetrics&) = delete;

  /// Counts one check's outcome (`outcome.check` set).
  void count(const pool::DialOutcome& outcome);

 private:
  static constexpr std::size_t kResults = pool::kDialResultCount + 1;  // + bad_status
  std::array<std::array<prometheus::Counter*, kResults>, config::kEgressKindCount> counters_{};
};

}  // namespace ipm::app
