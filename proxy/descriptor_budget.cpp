#include "proxy/descriptor_budget.hpp"

#include <algorithm>

namespace ipm::proxy {
namespace {

// epoll, its interrupter (eventfd), its timerfd and the listening socket.
constexpr std::uint64_t kWorkerDescriptors = 4;
// Idle pipes a worker keeps for splice(2) (see PipePool), two descriptors each.
constexpr std::uint64_t kIdlePipesKept = 8;

}  // namespace

DescriptorBudget plan_descriptors(std::uint64_t fd_limit, std::uint64_t reserved,
                                  std::uint32_t workers, bool splice,
                                  std::uint32_t max_connections) {
  DescriptorBudget b;
  b.fd_limit = fd_limit;
  b.reserved = reserved;
  b.per_worker = kWorkerDescriptors + (splice ? 2 * kIdlePipesKept : 0);
  b.per_connection = splice ? 2 + 2 * 2 : 2;
  b.configured = max_connections;
  const std::uint64_t taken = reserved + b.per_worker * workers;
  const std::uint64_t room = fd_limit > taken ? (fd_limit - taken) / b.per_connection : 0;
  b.max_connections = static_cast<std::uint32_t>(
      std::clamp<std::uint64_t>(room, 1, std::max<std::uint32_t>(max_connections, 1)));
  return b;
}

std::string describe(const DescriptorBudget& b) {
  std::string out = std::to_string(b.max_connections) + " connections at once (";
  if (!b.limited_by_descriptors())
    out += "max_connections";
  else
    out += "max_connections " + std::to_string(b.configured) +
           " does not fit the descriptor limit: raise LimitNOFILE or ulimit -n";
  out += "); descriptors: limit " + std::to_string(b.fd_limit) + ", " + std::to_string(b.reserved) +
         " kept for the probe, the logs and the rest, " + std::to_string(b.per_connection) +
         " per connection";
  return out;
}

}  // namespace ipm::proxy
