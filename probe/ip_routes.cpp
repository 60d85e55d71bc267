// /api/ip/{ip}: one IP in detail, and the operator's ban / unban / reset on it.
#include "probe/routes.hpp"

#include <algorithm>

#include "config/duration.hpp"
#include "probe/decision_json.hpp"
#include "probe/json_writer.hpp"
#include "probe/operator_actions.hpp"
#include "probe/params.hpp"
#include "strategy/operator_command.hpp"

namespace ipm::probe::routes {

namespace {

using strategy::Engine;
using strategy::IpRecord;

constexpr std::size_t kDefaultHistory = 100;
constexpr std::size_t kDecisionsShown = 20;

void field(std::string& out, std::string_view name) {
  if (out.back() != '{')
    out += ',';
  append_json_string(out, name);
  out += ':';
}

void append_counters(std::string& out, const strategy::IpCounters& c) {
  const std::pair<std::string_view, std::uint64_t> values[] = {
      {"events", c.events},
      {"successes", c.successes},
      {"failures", c.failures},
      {"neutrals", c.neutrals},
      {"dials", c.dials},
      {"dial_failures", c.dial_failures},
      {"ignored_events", c.ignored_events},
      {"ejections", c.ejections},
      {"ejections_capped", c.ejections_capped},
      {"probations", c.probations},
      {"recoveries", c.recoveries},
  };
  out += '{';
  for (const auto& [name, value] : values) {
    field(out, name);
    append_json_int(out, static_cast<std::int64_t>(value));
  }
  out += '}';
}

// The detail view, written under the engine lock.
std::string ip_json(const Engine& engine, const IpRecord& r, std::size_t history_limit) {
  const config::Config& cfg = engine.config();
  std::string out = "{";
  field(out, "ip");
  append_json_string(out, r.egress.ip);
  field(out, "port");
  append_json_int(out, r.egress.port);
  field(out, "server_name");
  append_json_string(out, r.egress.server_name);
  field(out, "weight");
  append_json_int(out, r.egress.weight);
  field(out, "disabled");
  out += r.disabled ? "true" : "false";
  field(out, "state");
  append_json_string(out, to_string(r.state));
  field(out, "state_since");
  append_json_time_or_null(out, r.state_since);
  field(out, "reason");
  append_json_string(out, r.last_reason);
  field(out, "last_decision");
  append_json_string(out, to_string(r.last_decision));
  field(out, "consecutive_failures");
  append_json_int(out, r.consecutive_failures());
  field(out, "until");
  const bool out_of_traffic = r.state == pool::IpState::cooling || r.state == pool::IpState::banned;
  if (out_of_traffic)
    append_json_time(out, r.cooldown_until);  // null for a ban until unbanned
  else
    out += "null";
  field(out, "backoff_multiplier");
  append_json_double(out, r.backoff_multiplier);
  field(out, "backoff_seconds");
  const double base = std::chrono::duration<double>(cfg.cool_down).count();
  const double cap = std::chrono::duration<double>(cfg.max_cool_down).count();
  append_json_double(out, std::min(base * r.backoff_multiplier, std::max(cap, base)));
  field(out, "counters");
  append_counters(out, r.counters);

  // Health per target: the sites this IP is tracked for (each failed on it, or was banned
  // there), the newest failure first.
  field(out, "sites");
  out += '[';
  std::vector<const strategy::SiteRecord*> sites;
  sites.reserve(r.sites.size());
  for (const auto& s : r.sites)
    sites.push_back(&s);
  std::sort(sites.begin(), sites.end(),
            [](const auto* a, const auto* b) { return a->last_failure > b->last_failure; });
  for (std::size_t i = 0; i < sites.size(); ++i) {
    const strategy::SiteRecord& s = *sites[i];
    out += i > 0 ? ",{" : "{";
    field(out, "site");
    append_json_string(out, engine.site(s.site));
    field(out, "state");
    append_json_string(out, to_string(s.state));
    field(out, "state_since");
    append_json_time_or_null(out, s.state_since);
    field(out, "until");
    if (s.out())
      append_json_time(out, s.cooldown_until);  // null for a ban until unbanned
    else
      out += "null";
    field(out, "reason");
    append_json_string(out, s.last_reason);
    field(out, "cooldown_reason");
    append_json_string(out, to_string(s.reason));
    field(out, "consecutive_failures");
    append_json_int(out, s.consecutive_failures());
    field(out, "failures");
    append_json_int(out, static_cast<std::int64_t>(s.failures));
    field(out, "ejections");
    append_json_int(out, static_cast<std::int64_t>(s.ejections));
    field(out, "last_failure");
    append_json_time_or_null(out, s.last_failure);
    field(out, "backoff_multiplier");
    append_json_double(out, s.backoff_multiplier);
    out += '}';
  }
  out += ']';

  field(out, "cooldowns");
  out += '[';
  for (std::size_t i = 0; i < r.cooldowns.size(); ++i) {
    const pool::CooldownRecord& c = r.cooldowns[r.cooldowns.size() - 1 - i];  // newest first
    out += i > 0 ? ",{" : "{";
    field(out, "start");
    append_json_time(out, c.start);
    field(out, "end");
    append_json_time(out, c.end);
    field(out, "reason");
    append_json_string(out, to_string(c.reason));
    out += '}';
  }
  out += ']';

  field(out, "history");
  out += '[';
  const std::size_t n = std::min(history_limit, r.history.size());
  for (std::size_t i = 0; i < n; ++i) {
    const pool::HistoryEntry& e = r.history[r.history.size() - 1 - i];  // newest first
    out += i > 0 ? ",{" : "{";
    field(out, "time");
    append_json_time_ns(out, e.time_ns);
    field(out, "status");
    append_json_int(out, e.status);
    field(out, "upstream_status");
    append_json_int(out, e.upstream_status);
    field(out, "key");
    append_json_string(out, engine.key(e.key));
    field(out, "target");
    append_json_string(out, engine.target(e.target));
    field(out, "latency_seconds");
    if (e.latency_seconds >= 0.0F)
      append_json_double(out, e.latency_seconds);
    else
      out += "null";
    out += '}';
  }
  out += ']';

  field(out, "decisions");
  out += '[';
  std::size_t shown = 0;
  for (const auto& d : engine.latest_decisions(cfg.decisions_kept)) {
    if (d.ip != r.egress.ip)
      continue;
    if (shown++ > 0)
      out += ',';
    append_decision_json(out, d);
    if (shown == kDecisionsShown)
      break;
  }
  out += "]}\n";
  return out;
}

Response unknown_ip(std::string_view ip) {
  return error_response(http::status::not_found, "unknown IP: " + std::string(ip));
}

}  // namespace
}  // namespace ipm::probe::routes

namespace ipm::probe {

Response run_operator_action(Context& context, pool::OperatorAction action) {
  using routes::ip_json;
  using routes::unknown_ip;
  using strategy::Engine;
  if (context.engine == nullptr)
    return error_response(http::status::service_unavailable, "the strategy engine is not wired");
  const bool known =
      context.engine->read([&](const Engine& engine) { return engine.find(action.ip) != nullptr; });
  if (!known)
    return unknown_ip(action.ip);
  if (!action.target.empty() && action.kind != pool::OperatorAction::Kind::ban) {
    // Unban or reset of a site the IP keeps no state for: nothing to journal or apply.
    const bool tracked = context.engine->read([&](const Engine& engine) {
      const strategy::IpRecord* r = engine.find(action.ip);
      return r != nullptr && engine.site_record(*r, action.target) != nullptr;
    });
    if (!tracked) {
      return error_response(http::status::not_found,
                            action.ip + " keeps no state for " + action.target);
    }
  }
  if (context.journal) {
    if (auto failure = context.journal(action)) {
      return error_response(http::status::service_unavailable,
                            "not applied: the action could not be journaled: " + *failure);
    }
  }
  std::optional<std::string> body =
      context.engine->update([&](Engine& engine) -> std::optional<std::string> {
        if (strategy::apply_for_site(engine, action) != strategy::SiteCommand::done)
          return std::nullopt;  // removed by a reload in between, or its site record evicted
        return ip_json(engine, *engine.find(action.ip), 0);
      });
  if (!body)
    return unknown_ip(action.ip);
  return text_response(http::status::ok, std::move(*body), "application/json");
}

}  // namespace ipm::probe

namespace ipm::probe::routes {
namespace {

pool::OperatorAction action_of(const Request& request, Context& context,
                               pool::OperatorAction::Kind kind, std::string_view ip) {
  pool::OperatorAction a;
  a.kind = kind;
  a.ip = std::string(ip);
  a.time = context.now();
  a.client = request.peer.to_string();
  return a;
}

// `?target=` of ban, unban and reset: the site the action is about (grouped as the log's
// targets are: www.a.example is a.example), journaled as the site. A 400 when it names none.
std::optional<Response> site_param(const Target& target, Context& context,
                                   pool::OperatorAction& a) {
  const auto values = target.all("target");
  if (values.empty())
    return std::nullopt;
  const std::string_view text = values.back();
  a.target =
      context.engine == nullptr ? std::string() : context.engine->read([&](const Engine& engine) {
        return engine.grouper().site_of(text);
      });
  if (a.target.empty()) {
    return error_response(http::status::bad_request,
                          "query parameter 'target' must name a host, such as a.example "
                          "(and target_grouping must not be none)");
  }
  return std::nullopt;
}

// An action on the whole egress that takes no parameter (disable, enable).
Response whole_egress_action(const Request& request, const Target& target, Context& context,
                             std::string_view ip, pool::OperatorAction::Kind kind) {
  if (auto bad = reject_unknown_params(target, {}))
    return std::move(*bad);
  return run_operator_action(context, action_of(request, context, kind, ip));
}

}  // namespace

Response ip_detail(const Request&, const Target& target, Context& context, std::string_view ip) {
  if (auto bad = reject_unknown_params(target, {"limit"}))
    return std::move(*bad);
  if (context.engine == nullptr)
    return error_response(http::status::service_unavailable, "the strategy engine is not wired");
  auto limit =
      count_param(target, "limit", kDefaultHistory, std::numeric_limits<std::size_t>::max());
  if (limit.error)
    return std::move(*limit.error);
  auto body = context.engine->read([&](const Engine& engine) -> std::optional<std::string> {
    const IpRecord* r = engine.find(ip);
    if (r == nullptr)
      return std::nullopt;
    return ip_json(engine, *r, limit.value);
  });
  if (!body)
    return unknown_ip(ip);
  return text_response(http::status::ok, std::move(*body), "application/json");
}

Response ip_ban(const Request& request, const Target& target, Context& context,
                std::string_view ip) {
  if (auto bad = reject_unknown_params(target, {"for", "reason", "target"}))
    return std::move(*bad);
  std::optional<config::Millis> ban_for;
  if (const auto values = target.all("for"); !values.empty()) {
    std::string why;
    ban_for = config::parse_duration(values.back(), std::chrono::seconds(1), why);
    // Ten years bounds `now + for` far from overflow; longer is what omitting `for` means.
    if (!ban_for || ban_for->count() <= 0 || *ban_for > std::chrono::years(10)) {
      return error_response(http::status::bad_request,
                            "query parameter 'for' must be a positive duration up to 10 years, "
                            "such as 10m or 90s (omit it to ban until unbanned)" +
                                (why.empty() ? std::string() : ": " + why));
    }
  }
  std::string reason = "manual ban via API";
  if (const auto values = target.all("reason"); !values.empty() && !values.back().empty())
    reason = std::string(values.back().substr(0, 200));
  pool::OperatorAction a = action_of(request, context, pool::OperatorAction::Kind::ban, ip);
  if (auto bad = site_param(target, context, a))
    return std::move(*bad);
  a.until = ban_for ? a.time + *ban_for : pool::TimePoint::max();
  a.reason = std::move(reason);
  return run_operator_action(context, std::move(a));
}

Response ip_unban(const Request& request, const Target& target, Context& context,
                  std::string_view ip) {
  if (auto bad = reject_unknown_params(target, {"target"}))
    return std::move(*bad);
  pool::OperatorAction a = action_of(request, context, pool::OperatorAction::Kind::unban, ip);
  if (auto bad = site_param(target, context, a))
    return std::move(*bad);
  return run_operator_action(context, std::move(a));
}

Response ip_reset(const Request& request, const Target& target, Context& context,
                  std::string_view ip) {
  if (auto bad = reject_unknown_params(target, {"target"}))
    return std::move(*bad);
  pool::OperatorAction a = action_of(request, context, pool::OperatorAction::Kind::reset, ip);
  if (auto bad = site_param(target, context, a))
    return std::move(*bad);
  return run_operator_action(context, std::move(a));
}

Response ip_disable(const Request& request, const Target& target, Context& context,
                    std::string_view ip) {
  return whole_egress_action(request, target, context, ip, pool::OperatorAction::Kind::disable);
}

Response ip_enable(const Request& request, const Target& target, Context& context,
                   std::string_view ip) {
  return whole_egress_action(request, target, context, ip, pool::OperatorAction::Kind::enable);
}

Response ip_weight(const Request& request, const Target& target, Context& context,
                   std::string_view ip) {
  if (auto bad = reject_unknown_params(target, {"value"}))
    return std::move(*bad);
  if (target.all("value").empty()) {
    return error_response(http::status::bad_request,
                          "query parameter 'value' is required: a weight 0-1000000 (0 drains)");
  }
  auto value = count_param(target, "value", 1, std::numeric_limits<std::size_t>::max());
  if (value.error)
    return std::move(*value.error);
  if (value.value > 1'000'000) {
    return error_response(http::status::bad_request,
                          "query parameter 'value' must be a weight 0-1000000 (0 drains)");
  }
  pool::OperatorAction a = action_of(request, context, pool::OperatorAction::Kind::weight, ip);
  a.weight = static_cast<std::uint32_t>(value.value);
  return run_operator_action(context, std::move(a));
}

}  // namespace ipm::probe::routes
