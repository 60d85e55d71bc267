// GET /probe and /api/ip/history: the Go tool's JSON shape, streamed IP by IP so that
// 1,000 IPs x 1,000 entries never sit whole in memory.
#include "probe/routes.hpp"

#include <algorithm>
#include <array>
#include <limits>

#include "probe/json_writer.hpp"
#include "probe/params.hpp"

namespace ipm::probe::routes {

namespace {

using strategy::Engine;
using strategy::IpRecord;

// Piece size handed to the session per next(); also bounds how long one read holds the
// engine lock (a few IPs' worth of serialization).
constexpr std::size_t kPieceBytes = 64 * 1024;

void append_port_string(std::string& out, std::uint16_t port) {
  out += '"';
  append_json_int(out, port);
  out += '"';
}

bool is_available(pool::IpState s) {
  return s == pool::IpState::available || s == pool::IpState::probation;
}

// With ?target=: the IP's state for that site, which is its own state unless the IP is in
// traffic and the site has a state of its own on it (cooling, banned, probation for it).
struct ForSite {
  pool::IpState state;
  const strategy::SiteRecord* record;  ///< non-null when the site's state is what counts
};
ForSite for_site(const Engine& engine, const IpRecord& r, std::string_view site) {
  if (site.empty() || !is_available(r.state))
    return {r.state, nullptr};
  const strategy::SiteRecord* s = engine.site_record(r, site);
  if (s == nullptr || s->state == pool::IpState::available)
    return {r.state, nullptr};
  return {s->state, s};
}

// One IP as the Go tool's `IP` struct marshalled it (Port, Addr, Banned, History, Failure,
// CoolDowns, same names and types), with clean values: StatusCode "200" instead of
// " 200 ", ExgressKey and Target without the log's literal text around them. "State",
// "UpstreamStatus", "RequestTime" and "Disabled" (only while the operator has it disabled)
// are additions; consumers of the Go shape ignore them.
void append_ip(std::string& out, const Engine& engine, const IpRecord& r, std::size_t limit) {
  append_json_string(out, r.egress.ip);
  out += ":{\"Port\":";
  append_port_string(out, r.egress.port);
  out += ",\"Addr\":";
  append_json_string(out, r.egress.ip);
  out += ",\"Banned\":";
  out += is_available(r.state) ? "false" : "true";
  out += ",\"State\":";
  append_json_string(out, to_string(r.state));
  if (r.disabled)
    out += ",\"Disabled\":true";
  out += ",\"History\":[";
  const std::size_t n = std::min(limit, r.history.size());
  for (std::size_t i = r.history.size() - n; i < r.history.size(); ++i) {
    const pool::HistoryEntry& e = r.history[i];
    if (i != r.history.size() - n)
      out += ',';
    out += "{\"Time\":";
    append_json_time_ns(out, e.time_ns);
    out += ",\"StatusCode\":\"";
    append_json_int(out, e.status);
    out += "\",\"ExgressKey\":";
    append_json_string(out, engine.key(e.key));
    out += ",\"Target\":";
    append_json_string(out, engine.target(e.target));
    out += ",\"Port\":";
    append_port_string(out, r.egress.port);
    if (e.upstream_status != 0) {
      out += ",\"UpstreamStatus\":\"";
      append_json_int(out, e.upstream_status);
      out += '"';
    }
    if (e.latency_seconds >= 0.0F) {
      out += ",\"RequestTime\":";
      append_json_double(out, e.latency_seconds);
    }
    out += '}';
  }
  out += "],\"Failure\":";
  append_json_int(out, r.consecutive_failures());
  out += ",\"CoolDowns\":[";
  for (std::size_t i = 0; i < r.cooldowns.size(); ++i) {
    if (i > 0)
      out += ',';
    out += '[';
    append_json_time(out, r.cooldowns[i].start);
    out += ',';
    append_json_time(out, r.cooldowns[i].end);
    out += ']';
  }
  out += "]}";
}

class HistorySource final : public BodySource {
 public:
  HistorySource(const strategy::SharedEngine& engine, std::string head,
                std::vector<std::string> ips, std::size_t limit)
      : engine_(engine), head_(std::move(head)), ips_(std::move(ips)), limit_(limit) {}

  bool next(std::string& out) override {
    if (done_)
      return false;
    const std::size_t start = out.size();
    if (!head_.empty()) {
      out += head_;
      head_.clear();
    }
    engine_.read([&](const Engine& engine) {
      while (next_ < ips_.size() && out.size() - start < kPieceBytes) {
        // An IP removed by a reload since the request started is skipped.
        if (const IpRecord* r = engine.find(ips_[next_])) {
          if (written_++ > 0)
            out += ',';
          append_ip(out, engine, *r, limit_);
        }
        ++next_;
      }
    });
    if (next_ == ips_.size()) {
      out += "}}\n";
      done_ = true;
    }
    return true;
  }

 private:
  const strategy::SharedEngine& engine_;
  std::string head_;
  std::vector<std::string> ips_;
  std::size_t limit_;
  std::size_t next_ = 0;
  std::size_t written_ = 0;
  bool done_ = false;
};

// GET /probe?summary=1: the pool's counts and the IPs not available, a few KB whatever the
// pool's size (what a script or a page polls; the full form is per IP and per entry).
// `states`: the IPs listed (default: every state but available).
// With a site: counts, states and reasons are the IPs' for that site.
std::string summary_json(const Engine& engine, const std::vector<pool::IpState>& states,
                         std::string_view site) {
  std::string out = "{\"IPs\":";
  append_json_int(out, static_cast<std::int64_t>(engine.ips().size()));
  if (!site.empty()) {
    out += ",\"Site\":";
    append_json_string(out, site);
  }
  out += ",\"ByState\":{";
  std::array<std::uint32_t, pool::kIpStateCount> by_state{};
  for (const IpRecord& r : engine.ips())
    ++by_state[static_cast<std::size_t>(for_site(engine, r, site).state)];
  for (std::size_t i = 0; i < pool::kIpStateCount; ++i) {
    const auto state = static_cast<pool::IpState>(i);
    if (i > 0)
      out += ',';
    append_json_string(out, to_string(state));
    out += ':';
    append_json_int(out, by_state[i]);
  }
  out += "},\"AllUnavailable\":";
  out += engine.all_unavailable() ? "true" : "false";
  out += ",\"IPList\":[";
  bool first = true;
  for (const IpRecord& r : engine.ips()) {
    const ForSite f = for_site(engine, r, site);
    const bool listed = states.empty()
                            ? f.state != pool::IpState::available
                            : std::find(states.begin(), states.end(), f.state) != states.end();
    if (!listed)
      continue;
    const strategy::Health& h = f.record != nullptr
                                    ? static_cast<const strategy::Health&>(*f.record)
                                    : static_cast<const strategy::Health&>(r);
    if (!first)
      out += ',';
    first = false;
    out += "{\"IP\":";
    append_json_string(out, r.egress.ip);
    out += ",\"Port\":";
    append_port_string(out, r.egress.port);
    out += ",\"State\":";
    append_json_string(out, to_string(h.state));
    if (!site.empty()) {
      out += ",\"For\":";  // "site": the site's own state on this IP; "all": the IP's
      append_json_string(out, f.record != nullptr ? "site" : "all");
    }
    out += ",\"Since\":";
    append_json_time(out, h.state_since);
    if (h.out()) {
      out += ",\"Until\":";
      append_json_time(out, h.cooldown_until);
    }
    out += ",\"Failure\":";
    append_json_int(out, h.consecutive_failures());
    out += ",\"Reason\":";
    append_json_string(out, h.last_reason);
    out += '}';
  }
  out += "]}\n";
  return out;
}

}  // namespace

Response history(const Request&, const Target& target, Context& context) {
  if (auto bad = reject_unknown_params(target, {"ip", "state", "limit", "summary", "target"},
                                       {"ip", "state"}))
    return std::move(*bad);
  if (context.engine == nullptr)
    return error_response(http::status::service_unavailable, "the strategy engine is not wired");
  const auto summary = target.all("summary");
  if (!summary.empty() && summary.back() != "0" && summary.back() != "1")
    return error_response(http::status::bad_request, "summary must be 0 or 1");
  const bool summarize = !summary.empty() && summary.back() == "1";
  if (summarize && (!target.all("ip").empty() || !target.all("limit").empty())) {
    return error_response(http::status::bad_request,
                          "summary=1 takes only state= (the IPs it lists); ip= and limit= "
                          "belong to the full form");
  }
  auto limit = count_param(target, "limit", std::numeric_limits<std::size_t>::max(),
                           std::numeric_limits<std::size_t>::max());
  if (limit.error)
    return std::move(*limit.error);

  std::vector<pool::IpState> states;
  for (const auto& name : list_param(target, "state")) {
    const auto state = parse_state(name);
    if (!state) {
      return error_response(
          http::status::bad_request,
          "unknown state '" + name + "' (known: available, cooling, probation, banned)");
    }
    states.push_back(*state);
  }
  // ?target=a.example: the IPs that serve that site (AvailableIP: in traffic and neither
  // cooling nor banned for it), states and reasons for it in the summary.
  std::string site;
  if (const auto targets = target.all("target"); !targets.empty()) {
    site = context.engine->read(
        [&](const Engine& engine) { return engine.grouper().site_of(targets.back()); });
    if (site.empty()) {
      return error_response(http::status::bad_request,
                            "query parameter 'target' must name a host, such as a.example "
                            "(and target_grouping must not be none)");
    }
  }
  if (summarize) {
    std::string body = context.engine->read(
        [&](const Engine& engine) { return summary_json(engine, states, site); });
    return text_response(http::status::ok, std::move(body), "application/json");
  }
  const std::vector<std::string> wanted = list_param(target, "ip");

  // Choose the IPs and the AvailableIP list in one read, so they agree with each other.
  std::string unknown;
  std::vector<std::string> ips;
  std::string head = "{\"AvailableIP\":[";
  context.engine->read([&](const Engine& engine) {
    for (const auto& ip : wanted) {
      if (engine.find(ip) == nullptr)
        unknown += (unknown.empty() ? "" : ", ") + ip;
    }
    bool first = true;
    for (const IpRecord& r : engine.ips()) {
      if (!wanted.empty() && std::find(wanted.begin(), wanted.end(), r.egress.ip) == wanted.end())
        continue;
      const pool::IpState state = for_site(engine, r, site).state;
      if (!states.empty() && std::find(states.begin(), states.end(), state) == states.end())
        continue;
      ips.push_back(r.egress.ip);
      // a disabled IP takes no traffic; an absent source cannot leave the host
      if (is_available(state) && !r.disabled && !r.absent) {
        if (!first)
          head += ',';
        first = false;
        append_json_string(head, r.egress.ip);
      }
    }
  });
  if (!unknown.empty())
    return error_response(http::status::not_found, "unknown IP: " + unknown);
  head += ']';
  if (!site.empty()) {
    head += ",\"Site\":";
    append_json_string(head, site);
  }
  head += ",\"IPHistory\":{";
  return streamed_json(std::make_unique<HistorySource>(*context.engine, std::move(head),
                                                       std::move(ips), limit.value));
}

}  // namespace ipm::probe::routes
