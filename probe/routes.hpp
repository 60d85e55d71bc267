#pragma once

#include <string_view>

#include "probe/context.hpp"
#include "probe/message.hpp"
#include "probe/target.hpp"

// The route handlers behind probe::handle(), one per route. Internal to probe/.
namespace ipm::probe::routes {

Response ping(const Request&, const Target&, Context&);
Response config(const Request&, const Target&, Context&);
Response metrics(const Request&, const Target&, Context&);
Response decisions(const Request&, const Target&, Context&);
Response renew(const Request&, const Target&, Context&);

/// /probe and /api/ip/history: the Go tool's shape, streamed.
Response history(const Request&, const Target&, Context&);

/// /api/ip/{ip}
Response ip_detail(const Request&, const Target&, Context&, std::string_view ip);
/// POST /api/ip/{ip}/ban|unban|reset
Response ip_ban(const Request&, const Target&, Context&, std::string_view ip);
Response ip_unban(const Request&, const Target&, Context&, std::string_view ip);
Response ip_reset(const Request&, const Target&, Context&, std::string_view ip);

}  // namespace ipm::probe::routes
