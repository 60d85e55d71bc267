#pragma once

#include <string_view>

#include "probe/context.hpp"
#include "probe/message.hpp"
#include "probe/target.hpp"

// The route handlers behind probe::handle(), one per route. Internal to probe/.
namespace ipm::probe::routes {

Response ping(const Request&, const Target&, Context&);
Response ready(const Request&, const Target&, Context&);
Response config(const Request&, const Target&, Context&);
Response metrics(const Request&, const Target&, Context&);
Response decisions(const Request&, const Target&, Context&);
/// GET /api/clients: the open connections of each client, in all and per egress, and the caps
Response client_counts(const Request&, const Target&, Context&);
Response renew(const Request&, const Target&, Context&);

/// /probe and /api/ip/history: the Go tool's shape, streamed.
Response history(const Request&, const Target&, Context&);

/// GET / and /assets/<name>: the web page's files, with ETag, gzip and a strict CSP.
Response web_asset(const Request&, const Target&, Context&);
/// GET /api/events: asks the session to stream the page's feed.
Response events(const Request&, const Target&, Context&);
/// Whether an Accept-Encoding value accepts gzip (gzip, x-gzip or *, with a weight above 0).
bool accepts_gzip(std::string_view accept_encoding);
/// Whether an If-None-Match value matches `etag` (weak comparison, or *).
bool etag_matches(std::string_view if_none_match, std::string_view etag);

/// /api/ip/{ip}
Response ip_detail(const Request&, const Target&, Context&, std::string_view ip);
/// POST /api/ip/{ip}/ban|unban|reset
Response ip_ban(const Request&, const Target&, Context&, std::string_view ip);
Response ip_unban(const Request&, const Target&, Context&, std::string_view ip);
Response ip_reset(const Request&, const Target&, Context&, std::string_view ip);
/// POST /api/ip/{ip}/weight?value=N
Response ip_weight(const Request&, const Target&, Context&, std::string_view ip);
/// POST /api/ip/{ip}/disable|enable: no new connections through it until enabled (a drain)
Response ip_disable(const Request&, const Target&, Context&, std::string_view ip);
Response ip_enable(const Request&, const Target&, Context&, std::string_view ip);

}  // namespace ipm::probe::routes
