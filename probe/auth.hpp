#pragma once

#include <optional>
#include <string_view>

#include "probe/message.hpp"

namespace ipm::probe {

/// Decides whether `request` may call a mutating route.
/// With `api_token` set: it needs `Authorization: Bearer <api_token>` (401 otherwise).
/// Without: only loopback clients (127.0.0.0/8, ::1, ::ffff:127.0.0.0/104) may (403).
/// Returns the refusal, or nullopt when allowed. The token is compared in constant time
/// and never appears in a response.
std::optional<Response> refuse_mutation(const Request& request, std::string_view api_token);

/// True for 127.0.0.0/8, ::1 and IPv4-mapped loopback.
bool is_loopback(const boost::asio::ip::address& address);

}  // namespace ipm::probe
