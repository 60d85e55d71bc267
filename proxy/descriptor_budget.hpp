#pragma once

#include <cstdint>
#include <string>

namespace ipm::proxy {

/// How many connections the proxy can hold at once within the process's descriptor limit, as
/// HAProxy derives its maxconn from `ulimit -n`: every proxied connection takes two descriptors
/// (client and egress), two more per splice(2) pipe (one per direction with proxy_splice), and
/// each worker a few of its own (epoll, its wake-up and timer descriptors, the listener, the
/// idle pipes it keeps). `reserved` is what the rest of the process needs (the probe, the
/// tailer, logs), kept out of the proxy's reach so /ping and /metrics answer with the proxy full.
struct DescriptorBudget {
  std::uint64_t fd_limit = 0;         ///< the soft RLIMIT_NOFILE
  std::uint64_t reserved = 0;         ///< for the rest of the process
  std::uint64_t per_worker = 0;       ///< the workers' own descriptors, each
  std::uint32_t per_connection = 0;   ///< descriptors one connection may hold
  std::uint32_t configured = 0;       ///< max_connections
  std::uint32_t max_connections = 0;  ///< the effective cap: at least 1
  /// The limit, not max_connections, sets the cap.
  bool limited_by_descriptors() const { return max_connections < configured; }
};

/// The budget for `workers` workers (with proxy_splice when `splice`) under `fd_limit`.
/// Plain arithmetic; the cap is never 0 (one connection at least, even when the limit cannot
/// hold the reserve: accepting then waits for descriptors as when they run out).
DescriptorBudget plan_descriptors(std::uint64_t fd_limit, std::uint64_t reserved,
                                  std::uint32_t workers, bool splice,
                                  std::uint32_t max_connections);

/// One line for the startup log: "10000 connections (max_connections); descriptors: ...".
std::string describe(const DescriptorBudget& b);

}  // namespace ipm::proxy
