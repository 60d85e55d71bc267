#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include "pool/egress.hpp"
#include "scanner/nginx_config.hpp"
#include "scanner/nginx_error.hpp"

namespace ipm::scanner {

/// The egress IPs an nginx pool config declares.
struct UpstreamConfig {
  /// One entry per egress IP, in config order. When an IP is reachable through several
  /// ports, the first one is kept here (and the others are in `bindings` and `warnings`).
  std::vector<pool::Egress> egresses;
  /// Every (port, IP) pair: `egresses` plus the extra ports of an IP. This is the map the
  /// line parser attributes lines with.
  std::vector<pool::Egress> bindings;
  /// Things worth a log line that do not stop startup, each starting with "file:line: ".
  std::vector<std::string> warnings;
  /// `server` blocks that bind no egress IP (no proxy_bind, no "PORT->IP" return).
  std::size_t ignored_blocks = 0;
};

/// Reads the egress pool from an nginx config file (or `nginx -T` output).
/// Each `server { }` block, wherever it is nested (http, stream, top level of a snippet),
/// yields (listen port, egress IP, server_name): the IP is the block's static
/// `proxy_bind ADDR [transparent]` (at server level, or in a location when the server has
/// none), or else the Go tool's `return 200 "PORT->IP";`. `listen` accepts `PORT`,
/// `ADDR:PORT`, `[V6]:PORT`, `*:PORT` and any parameters after the address.
/// Throws NginxConfigError (file:line) on a syntax error, on a port claimed by two IPs
/// (naming both blocks), and when no block binds an egress IP at all.
UpstreamConfig parse_upstream_config(const std::filesystem::path& path);

/// The same, over an already parsed directive tree.
UpstreamConfig upstream_from_directives(const std::vector<NginxDirective>& directives,
                                        const std::string& origin);

}  // namespace ipm::scanner
