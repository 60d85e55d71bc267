// The small routes: /ping, /ready, /config, /metrics, /api/decisions, /api/ip/renew.
#include "probe/routes.hpp"

#include <sstream>

#include <prometheus/text_serializer.h>
#include <boost/json/serialize.hpp>

#include "config/json_view.hpp"
#include "probe/exposition.hpp"
#include "probe/json_writer.hpp"
#include "probe/params.hpp"

namespace ipm::probe::routes {

namespace {

constexpr std::size_t kDefaultDecisions = 100;

Response unavailable(std::string_view what) {
  return error_response(http::status::service_unavailable, std::string(what) + " is not wired");
}

void append_decision(std::string& out, const pool::Decision& d) {
  out += "{\"time\":";
  append_json_time(out, d.time);
  out += ",\"client\":";
  append_json_string(out, d.client);
  out += ",\"front_end\":";
  append_json_string(out, config::to_string(d.front_end));
  if (!d.destination.empty()) {
    out += ",\"destination\":";
    append_json_string(out, d.destination);
  }
  if (!d.username.empty()) {
    out += ",\"username\":";
    append_json_string(out, d.username);
  }
  out += ",\"kind\":";
  append_json_string(out, config::to_string(d.egress.kind));
  out += ",\"ip\":";
  append_json_string(out, d.egress.ip);
  out += ",\"port\":";
  append_json_int(out, d.egress.port);
  out += ",\"tries\":";
  append_json_int(out, d.tries);
  out += ",\"dial_seconds\":";
  append_json_double(out, std::chrono::duration<double>(d.dial_time).count());
  out += ",\"bytes_up\":";
  append_json_int(out, static_cast<std::int64_t>(d.bytes_up));
  out += ",\"bytes_down\":";
  append_json_int(out, static_cast<std::int64_t>(d.bytes_down));
  out += ",\"duration_seconds\":";
  append_json_double(out, std::chrono::duration<double>(d.duration).count());
  out += ",\"end\":";
  append_json_string(out, to_string(d.end));
  out += '}';
}

}  // namespace

Response ping(const Request&, const Target& target, Context&) {
  if (auto bad = reject_unknown_params(target, {}))
    return std::move(*bad);
  return text_response(http::status::ok, "pong");
}

Response ready(const Request&, const Target& target, Context& context) {
  if (auto bad = reject_unknown_params(target, {}))
    return std::move(*bad);
  const std::vector<std::string> waiting =
      context.readiness ? context.readiness() : std::vector<std::string>{};
  std::string body = waiting.empty() ? "{\"ready\":true" : "{\"ready\":false";
  body += ",\"waiting_for\":[";
  for (std::size_t i = 0; i < waiting.size(); ++i) {
    if (i > 0)
      body += ',';
    append_json_string(body, waiting[i]);
  }
  body += "]}\n";
  return text_response(waiting.empty() ? http::status::ok : http::status::service_unavailable,
                       std::move(body), "application/json");
}

Response config(const Request&, const Target& target, Context& context) {
  if (auto bad = reject_unknown_params(target, {}))
    return std::move(*bad);
  std::string body = boost::json::serialize(config::to_json(*context.config()));
  body += '\n';
  return text_response(http::status::ok, std::move(body), "application/json");
}

Response metrics(const Request&, const Target& target, Context& context) {
  if (auto bad = reject_unknown_params(target, {}))
    return std::move(*bad);
  // Collectables that write their own text (the pool collector, most of the output) append
  // it directly. The others are serialized by TextSerializer first, so that the direct ones
  // know how many series the scrape already holds (metrics_max_series caps the whole scrape);
  // the pieces are then joined in the collectables' order.
  const auto& collectables = context.collectables;
  std::vector<std::string> serialized(collectables.size());
  std::size_t series = 0;
  for (std::size_t i = 0; i < collectables.size(); ++i) {
    if (dynamic_cast<const TextExposition*>(collectables[i].get()) != nullptr)
      continue;
    std::ostringstream text;
    prometheus::TextSerializer().Serialize(text, collectables[i]->Collect());
    serialized[i] = std::move(text).str();
    series += count_series(serialized[i]);
  }
  std::string body;
  for (std::size_t i = 0; i < collectables.size(); ++i) {
    if (const auto* direct = dynamic_cast<const TextExposition*>(collectables[i].get()))
      series += direct->AppendText(body, series);
    else
      body += serialized[i];
  }
  return text_response(http::status::ok, std::move(body),
                       "text/plain; version=0.0.4; charset=utf-8");
}

Response decisions(const Request&, const Target& target, Context& context) {
  if (auto bad = reject_unknown_params(target, {"limit"}))
    return std::move(*bad);
  if (context.decisions == nullptr)
    return unavailable("the proxy decision log");
  auto limit = count_param(target, "limit", kDefaultDecisions, 1'000'000);
  if (limit.error)
    return std::move(*limit.error);

  const auto latest = context.decisions->latest(limit.value);
  std::string body = "{\"total\":";
  append_json_int(body, static_cast<std::int64_t>(context.decisions->total()));
  body += ",\"decisions\":[";
  for (std::size_t i = 0; i < latest.size(); ++i) {
    if (i > 0)
      body += ',';
    append_decision(body, latest[i]);
  }
  body += "]}\n";
  return text_response(http::status::ok, std::move(body), "application/json");
}

Response client_counts(const Request&, const Target& target, Context& context) {
  if (auto bad = reject_unknown_params(target, {}))
    return std::move(*bad);
  if (!context.clients)
    return unavailable("the proxy's client counts");
  const auto counts = context.clients();
  const auto cfg = context.config();
  std::string body = "{\"max_connections_per_client\":";
  append_json_int(body, cfg->max_connections_per_client);
  body += ",\"max_connections_per_client_egress\":";
  append_json_int(body, cfg->max_connections_per_client_egress);
  body += ",\"clients\":[";
  for (std::size_t i = 0; i < counts.size(); ++i) {
    body += i > 0 ? ",{\"client\":" : "{\"client\":";
    append_json_string(body, counts[i].client);
    body += ",\"connections\":";
    append_json_int(body, counts[i].connections);
    body += ",\"egresses\":{";
    for (std::size_t e = 0; e < counts[i].per_egress.size(); ++e) {
      if (e > 0)
        body += ',';
      append_json_string(body, counts[i].per_egress[e].first);
      body += ':';
      append_json_int(body, counts[i].per_egress[e].second);
    }
    body += "}}";
  }
  body += "]}\n";
  return text_response(http::status::ok, std::move(body), "application/json");
}

Response renew(const Request&, const Target& target, Context& context) {
  if (auto bad = reject_unknown_params(target, {}))
    return std::move(*bad);
  if (!context.renew)
    return unavailable("rescan");
  if (const std::optional<std::string> failure = context.renew())
    return error_response(http::status::internal_server_error, *failure);
  // The Go tool answered exactly this; scripts written against it may compare the body.
  return text_response(http::status::ok, "Renewed");
}

}  // namespace ipm::probe::routes
