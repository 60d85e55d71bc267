#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "config/config.hpp"
#include "probe/message.hpp"

namespace ipm::probe {

/// Who may call a route. The one place the probe decides it (the API and the web page).
enum class Access : std::uint8_t {
  open,    ///< /ping, /ready (health checks) and the web page's assets (no data): never refused
  read,    ///< /probe, /config, /metrics, GET /api/...: refused like a mutation when
           ///< require_token_for_reads is set, else open
  mutate,  ///< POST /api/...: see refuse_mutation()
};

/// The refusal for `request` on a route of `access`, or nullopt when allowed.
std::optional<Response> refuse(const Request& request, Access access, const config::Config& config);

/// Decides whether `request` may call a mutating route.
/// With `api_token` set: it needs `Authorization: Bearer <api_token>` (401 otherwise).
/// Without: only loopback clients (127.0.0.0/8, ::1, ::ffff:127.0.0.0/104) may (403).
/// Returns the refusal, or nullopt when allowed. The token is compared in constant time
/// and never appears in a response.
std::optional<Response> refuse_mutation(const Request& request, std::string_view api_token);

/// True for 127.0.0.0/8, ::1 and IPv4-mapped loopback.
bool is_loopback(const boost::asio::ip::address& address);

}  // namespace ipm::probe
