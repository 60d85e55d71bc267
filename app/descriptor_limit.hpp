#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "config/config.hpp"

namespace ipm::app {

/// The process's RLIMIT_NOFILE once raise_descriptor_limit() has run.
struct DescriptorLimit {
  std::uint64_t before = 0;  ///< the soft limit the process was started with
  std::uint64_t soft = 0;    ///< the soft limit now
  std::uint64_t hard = 0;
  std::string error;  ///< why the soft limit could not be raised, if it could not
};

/// Raises the soft descriptor limit to the hard one (to fs.nr_open when the hard limit is
/// unlimited), as HAProxy and nginx do: the soft limit of 1024 that many shells and
/// containers hand down would otherwise cap the proxy at a few hundred connections.
DescriptorLimit raise_descriptor_limit();

/// One line for the startup log.
std::string describe(const DescriptorLimit& limit);

/// Descriptors the process needs besides the proxy's connections: standard streams, the main
/// io_context, signals and slack; two per followed access log (the live file and a rotated
/// one being drained); the probe's listener and its connections (probe_max_connections and
/// probe_max_event_streams, but at most an eighth of the limit so that a low limit still leaves
/// room for the proxy).
std::uint64_t descriptors_besides_the_proxy(const config::Config& config, std::size_t followed_logs,
                                            std::uint64_t fd_limit);

}  // namespace ipm::app
