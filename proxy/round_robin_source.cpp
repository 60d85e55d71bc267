#include "proxy/round_robin_source.hpp"

#include <algorithm>

namespace ipm::proxy {

RoundRobinSource::RoundRobinSource(std::vector<pool::Egress> egresses)
    : egresses_(std::move(egresses)), counters_(std::make_unique<Counters[]>(egresses_.size())) {}

std::optional<pool::Egress> RoundRobinSource::pick(const pool::Request& request,
                                                   std::span<const pool::Egress> tried) {
  const std::size_t n = egresses_.size();
  if (n == 0)
    return std::nullopt;
  const std::uint64_t start = next_.fetch_add(1, std::memory_order_relaxed);
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t at = (start + i) % n;
    const pool::Egress& e = egresses_[at];
    if (pool::can_serve(e, request) && std::find(tried.begin(), tried.end(), e) == tried.end()) {
      counters_[at].picked.fetch_add(1, std::memory_order_relaxed);
      return e;
    }
  }
  return std::nullopt;
}

void RoundRobinSource::report(const pool::DialOutcome& outcome) {
  if (Counters* c = find(outcome.ip, outcome.port)) {
    auto& counter = outcome.result == pool::DialResult::ok ? c->dials_ok : c->dials_failed;
    counter.fetch_add(1, std::memory_order_relaxed);
  }
}

void RoundRobinSource::abandoned(const pool::Egress& egress) {
  if (Counters* c = find(egress.ip, egress.port))
    c->abandoned.fetch_add(1, std::memory_order_relaxed);
}

void RoundRobinSource::opened(const pool::Egress& egress) {
  if (Counters* c = find(egress.ip, egress.port)) {
    c->opened.fetch_add(1, std::memory_order_relaxed);
    c->active.fetch_add(1, std::memory_order_relaxed);
  }
}

void RoundRobinSource::closed(const pool::Egress& egress) {
  if (Counters* c = find(egress.ip, egress.port))
    c->active.fetch_sub(1, std::memory_order_relaxed);
}

RoundRobinSource::Tally RoundRobinSource::tally(std::string_view ip, std::uint16_t port) const {
  Tally t;
  if (const Counters* c = find(ip, port)) {
    t.dials_ok = c->dials_ok.load();
    t.dials_failed = c->dials_failed.load();
    t.opened = c->opened.load();
    t.active = c->active.load();
    t.picked = c->picked.load();
    t.abandoned = c->abandoned.load();
  }
  return t;
}

RoundRobinSource::Counters* RoundRobinSource::find(std::string_view ip, std::uint16_t port) const {
  for (std::size_t i = 0; i < egresses_.size(); ++i) {
    if (egresses_[i].port == port && egresses_[i].ip == ip)
      return &counters_[i];
  }
  return nullptr;
}

}  // namespace ipm::proxy
