// GET / and /assets/...: the web page, embedded in the binary; GET /api/events: its feed.
#include "probe/routes.hpp"

#include "probe/params.hpp"
#include "probe/web_assets.hpp"

namespace ipm::probe::routes {

namespace {

// Self only: the page loads its own script and style and talks to its own origin; inline
// scripts and styles are refused, so injected markup cannot run.
constexpr std::string_view kPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

}  // namespace

bool accepts_gzip(std::string_view accept_encoding) {
  while (!accept_encoding.empty()) {
    const auto comma = accept_encoding.find(',');
    std::string_view item = accept_encoding.substr(0, comma);
    accept_encoding = comma == std::string_view::npos ? "" : accept_encoding.substr(comma + 1);
    const auto semi = item.find(';');
    const std::string_view coding = trim_ows(item.substr(0, semi));
    if (coding != "gzip" && coding != "x-gzip" && coding != "*")
      continue;
    if (semi == std::string_view::npos)
      return true;
    // "q=0" (with any number of zeros after a dot) refuses it; any other weight accepts.
    std::string_view q = trim_ows(item.substr(semi + 1));
    if (!q.starts_with("q=") && !q.starts_with("Q="))
      return true;
    q.remove_prefix(2);
    return q.find_first_not_of("0.") != std::string_view::npos;
  }
  return false;
}

bool etag_matches(std::string_view if_none_match, std::string_view etag) {
  if (trim_ows(if_none_match) == "*")
    return true;
  while (!if_none_match.empty()) {
    const auto comma = if_none_match.find(',');
    std::string_view tag = trim_ows(if_none_match.substr(0, comma));
    if_none_match = comma == std::string_view::npos ? "" : if_none_match.substr(comma + 1);
    if (tag.starts_with("W/"))
      tag.remove_prefix(2);  // If-None-Match compares weakly (RFC 9110 13.1.2)
    if (tag == etag)
      return true;
  }
  return false;
}

Response web_asset(const Request& request, const Target& target, Context&) {
  if (auto bad = reject_unknown_params(target, {}))
    return std::move(*bad);
  const WebAsset* asset = find_web_asset(target.path);
  if (asset == nullptr)
    return error_response(http::status::not_found, "no route " + target.path);

  const auto& m = request.message;
  const bool gzip = !asset->gzip.empty() && accepts_gzip(m[http::field::accept_encoding]);
  const std::string_view etag = gzip ? asset->gzip_etag : asset->etag;
  Response r;
  if (etag_matches(m[http::field::if_none_match], etag)) {
    r.message.result(http::status::not_modified);
  } else {
    r.message.result(http::status::ok);
    r.message.body() = std::string(gzip ? asset->gzip : asset->body);
    if (gzip)
      r.message.set(http::field::content_encoding, "gzip");
  }
  r.message.set(http::field::content_type, asset->content_type);
  r.message.set(http::field::etag, etag);
  // Kept, but asked about again each time: a new binary's page is seen at once.
  r.message.set(http::field::cache_control, "no-cache");
  r.message.set(http::field::vary, "Accept-Encoding");
  r.message.set("X-Content-Type-Options", "nosniff");
  r.message.set("Content-Security-Policy", kPolicy);
  r.message.set("Referrer-Policy", "no-referrer");
  r.message.set("X-Frame-Options", "DENY");
  return r;
}

Response events(const Request& request, const Target& target, Context& context) {
  if (auto bad = reject_unknown_params(target, {}))
    return std::move(*bad);
  if (context.engine == nullptr)
    return error_response(http::status::service_unavailable, "the strategy engine is not wired");
  Response r;
  r.message.result(http::status::ok);
  r.message.set(http::field::content_type, "text/event-stream");
  r.message.set(http::field::cache_control, "no-store");
  r.message.set("X-Accel-Buffering", "no");  // a reverse proxy must pass events on at once
  r.message.set("X-Content-Type-Options", "nosniff");
  r.events = EventStreamStart{std::string(request.message["Last-Event-ID"])};
  return r;
}

}  // namespace ipm::probe::routes
