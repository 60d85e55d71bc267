#include "app/check_metrics.hpp"

#include <string>

namespace ipm::app {
namespace {

constexpr std::string_view kBadStatus = "bad_status";

// The counter's slot of a result label: a DialResult's index, bad_status last.
std::size_t slot_of(const pool::DialOutcome& o) {
  return check_result(o) == kBadStatus ? pool::kDialResultCount
                                       : static_cast<std::size_t>(o.result);
}

}  // namespace

std::string_view check_result(const pool::DialOutcome& o) {
  // Only the check's GET sets a status with a plain error: an upstream's refusal code comes
  // with upstream_refused or upstream_error.
  if (o.result == pool::DialResult::other_error && o.upstream_code >= 0)
    return kBadStatus;
  return pool::to_string(o.result);
}

CheckMetrics::CheckMetrics(prometheus::Registry& registry) {
  auto& family = prometheus::BuildCounter()
                     .Name("ipmanager_egress_checks_total")
                     .Help("Active checks through egresses, by egress kind and result")
                     .Register(registry);
  for (const auto kind : {config::EgressKind::source, config::EgressKind::upstream}) {
    auto& row = counters_[static_cast<std::size_t>(kind)];
    for (std::size_t r = 0; r < kResults; ++r) {
      const std::string_view result = r == pool::kDialResultCount
                                          ? kBadStatus
                                          : pool::to_string(static_cast<pool::DialResult>(r));
      row[r] = &family.Add(
          {{"kind", std::string(config::to_string(kind))}, {"result", std::string(result)}});
    }
  }
}

void CheckMetrics::count(const pool::DialOutcome& outcome) {
  if (prometheus::Counter* c = counters_[static_cast<std::size_t>(outcome.kind)][slot_of(outcome)])
    c->Increment();
}

}  // namespace ipm::app
