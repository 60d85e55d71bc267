#pragma once

#include <string>
#include <vector>

#include "config/config.hpp"

namespace ipm::app {

/// What the config exposes beyond this host without protection, one warning each: the
/// probe on a non-loopback address without api_token (its reads, client addresses included,
/// are open) or with a token that reads do not need, and the proxy on a non-loopback
/// address without proxy_allow_clients (anyone who reaches it egresses through the pool).
/// --check prints them and startup logs them as errors.
std::vector<std::string> exposure_warnings(const config::Config& config);

/// True for an address in 127.0.0.0/8 or ::1.
bool is_loopback_address(const std::string& address);

}  // namespace ipm::app
