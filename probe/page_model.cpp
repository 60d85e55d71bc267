#include "probe/page_model.hpp"

#include <algorithm>
#include <unordered_set>

#include "probe/decision_json.hpp"
#include "probe/json_writer.hpp"

namespace ipm::probe {

namespace {

using strategy::Engine;
using strategy::IpRecord;

double seconds(pool::Duration d) {
  return std::chrono::duration<double>(d).count();
}

void append_slow(std::string& out, const EgressRow& r) {
  out += "{\"id\":";
  append_json_string(out, r.id);
  out += ",\"kind\":";
  append_json_string(out, r.kind);
  out += ",\"port\":";
  append_json_int(out, r.port);
  out += ",\"weight\":";
  append_json_int(out, r.weight);
  out += ",\"state\":";
  append_json_string(out, to_string(r.state));
  out += ",\"since\":";
  append_json_time_or_null(out, r.since);
  out += ",\"reason\":";
  append_json_string(out, r.reason);
  out += ",\"decision\":";
  append_json_string(out, to_string(r.decision));
  out += ",\"until\":";
  append_json_time_or_null(out, r.until);  // max (until unbanned) is null too
  out += ",\"backoff\":";
  append_json_double(out, r.backoff);
  out += ",\"backoff_seconds\":";
  append_json_double(out, r.backoff_seconds);
  out += ",\"disabled\":";
  out += r.disabled ? "true" : "false";
  out += ",\"sites\":[";
  for (std::size_t i = 0; i < r.sites.size(); ++i) {
    const SiteBan& s = r.sites[i];
    out += i > 0 ? ",{\"site\":" : "{\"site\":";
    append_json_string(out, s.site);
    out += ",\"state\":";
    append_json_string(out, to_string(s.state));
    out += ",\"reason\":";
    append_json_string(out, s.reason);
    out += ",\"until\":";
    append_json_time_or_null(out, s.until);
    out += '}';
  }
  out += "]}";
}

void append_fast(std::string& out, const EgressRow& r) {
  out += '[';
  append_json_string(out, r.id);
  out += ',';
  append_json_int(out, r.open);
  out += ',';
  append_json_int(out, r.streak);
  out += ",[";
  for (std::size_t i = 0; i < r.mix.size(); ++i) {
    if (i > 0)
      out += ',';
    append_json_int(out, r.mix[i]);
  }
  out += "],";
  append_json_int(out, static_cast<std::int64_t>(r.failures));
  out += ',';
  append_json_int(out, static_cast<std::int64_t>(r.dial_failures));
  out += ']';
}

double rate(std::uint64_t now, std::uint64_t before, double dt) {
  return now >= before && dt > 0 ? static_cast<double>(now - before) / dt : 0.0;
}

}  // namespace

StatusClass status_class(int status) {
  if (status >= 100 && status < 400)
    return StatusClass::ok;
  if (status >= 400 && status < 500)
    return StatusClass::client_error;
  if (status >= 500 && status < 600)
    return StatusClass::server_error;
  return StatusClass::other;
}

PageView take_page_view(const Engine& engine, std::uint64_t after_seq) {
  const config::Config& cfg = engine.config();
  const double base = seconds(cfg.cool_down);
  const double cap = std::max(seconds(cfg.max_cool_down), base);
  PageView v;
  v.rows.reserve(engine.ips().size());
  for (const IpRecord& r : engine.ips()) {
    EgressRow& row = v.rows.emplace_back();
    row.id = r.egress.ip;
    row.kind = config::to_string(r.egress.kind);
    row.port = r.egress.port;
    row.weight = r.egress.weight;
    row.disabled = r.disabled;
    row.state = r.state;
    row.since = r.state_since;
    row.reason = r.last_reason;
    row.decision = r.last_decision;
    if (r.state == pool::IpState::cooling || r.state == pool::IpState::banned)
      row.until = r.cooldown_until == pool::TimePoint::max() ? pool::TimePoint{} : r.cooldown_until;
    row.backoff = r.backoff_multiplier;
    row.backoff_seconds = std::min(base * r.backoff_multiplier, cap);
    for (const strategy::SiteRecord& s : r.sites) {
      if (s.state == pool::IpState::available)
        continue;
      SiteBan& ban = row.sites.emplace_back();
      ban.site = std::string(engine.site(s.site));
      ban.state = s.state;
      ban.reason = s.last_reason;
      if (s.out() && s.cooldown_until != pool::TimePoint::max())
        ban.until = s.cooldown_until;
    }
    std::sort(row.sites.begin(), row.sites.end(),
              [](const SiteBan& a, const SiteBan& b) { return a.site < b.site; });
    row.streak = r.consecutive_failures();
    r.history_tally.for_each([&](std::uint16_t status, pool::Interner::Id, std::uint32_t n) {
      row.mix[static_cast<std::size_t>(status_class(status))] += n;
    });
    row.failures = r.counters.failures;
    row.dial_failures = r.counters.dial_failures;
  }
  for (std::size_t i = 0; i < pool::kIpStateCount; ++i)
    v.counts[i] = engine.count(static_cast<pool::IpState>(i));
  v.all_unavailable = engine.all_unavailable();
  v.consecutive_failure = cfg.consecutive_failure;
  v.last_decision_seq = engine.last_decision_seq();
  v.selection_version = engine.selection_version();
  if (v.last_decision_seq > after_seq) {
    const std::uint64_t newest_first =
        v.last_decision_seq > kDecisionsPerUpdate ? v.last_decision_seq - kDecisionsPerUpdate : 0;
    const std::uint64_t from = std::max(after_seq, newest_first);
    v.decisions = engine.decisions_after(from);
  }
  return v;
}

void add_open(PageView& view, const pool::Snapshot& snapshot) {
  // The snapshot lists the egresses in the engine's order unless a reload is between them.
  for (std::size_t i = 0; i < view.rows.size(); ++i) {
    EgressRow& row = view.rows[i];
    const pool::SnapshotEntry* e = nullptr;
    if (i < snapshot.ips.size() && snapshot.ips[i].egress.ip == row.id)
      e = &snapshot.ips[i];
    else if (const auto at = snapshot.find(row.id); at >= 0)
      e = &snapshot.ips[static_cast<std::size_t>(at)];
    if (e != nullptr && e->active)
      row.open = e->active->value.load(std::memory_order_relaxed);
  }
}

void PageModel::write_pool(const PageView& view) {
  std::string& out = pool_;
  out = "{\"time\":";
  append_json_time(out, view.wall);
  out += ",\"ips\":";
  append_json_int(out, static_cast<std::int64_t>(view.rows.size()));
  out += ",\"counts\":{";
  for (std::size_t i = 0; i < pool::kIpStateCount; ++i) {
    if (i > 0)
      out += ',';
    append_json_string(out, to_string(static_cast<pool::IpState>(i)));
    out += ':';
    append_json_int(out, view.counts[i]);
  }
  out += "},\"all_unavailable\":";
  out += view.all_unavailable ? "true" : "false";
  out += ",\"consecutive_failure\":";
  append_json_int(out, view.consecutive_failure);
  const TrafficTotals& t = view.traffic;
  const TrafficTotals before = last_traffic_.value_or(t);
  const double dt =
      last_traffic_ ? std::chrono::duration<double>(view.steady - last_tick_).count() : 0.0;
  out += ",\"open\":";
  append_json_int(out, static_cast<std::int64_t>(t.open));
  out += ",\"connections\":";
  append_json_int(out, static_cast<std::int64_t>(t.connections));
  out += ",\"bytes_up\":";
  append_json_int(out, static_cast<std::int64_t>(t.bytes_up));
  out += ",\"bytes_down\":";
  append_json_int(out, static_cast<std::int64_t>(t.bytes_down));
  out += ",\"connections_per_second\":";
  append_json_double(out, rate(t.connections, before.connections, dt));
  out += ",\"bytes_per_second\":";
  append_json_double(out, rate(t.bytes_up + t.bytes_down, before.bytes_up + before.bytes_down, dt));
  out += '}';
  last_traffic_ = t;
  last_tick_ = view.steady;
}

void PageModel::update(const PageView& view, bool tick, EventJournal& journal) {
  std::string slow;
  std::string traffic;
  std::unordered_set<std::string_view> present;
  present.reserve(view.rows.size());
  std::vector<std::string> order;
  order.reserve(view.rows.size());
  for (const EgressRow& r : view.rows) {
    if (!present.insert(r.id).second)
      continue;  // one row per id
    order.push_back(r.id);
    slow.clear();
    append_slow(slow, r);
    Row& known = rows_[r.id];
    if (known.slow != slow) {
      journal.append("ip", slow);
      known.slow = slow;
    }
    known.fast.clear();
    append_fast(known.fast, r);
    if (tick && known.fast != known.fast_sent) {
      known.fast_sent = known.fast;
      traffic += traffic.empty() ? "" : ",";
      traffic += known.fast;
    }
  }
  for (const std::string& id : order_) {
    if (present.contains(id))
      continue;
    std::string data = "{\"id\":";
    append_json_string(data, id);
    data += '}';
    journal.append("ip_removed", data);
    rows_.erase(id);
  }
  order_ = std::move(order);

  for (const strategy::DecisionRecord& d : view.decisions) {
    if (d.seq <= decision_seq_)
      continue;
    std::string data;
    append_decision_json(data, d);
    journal.append("decision", data);
    decisions_.push_back(std::move(data));
    if (decisions_.size() > kDecisionsKept)
      decisions_.pop_front();
  }
  decision_seq_ = std::max(decision_seq_, view.last_decision_seq);

  if (!tick)
    return;
  write_pool(view);
  std::string data = "{\"pool\":";
  data += pool_;
  data += ",\"traffic\":[";
  data += traffic;
  data += "]}";
  journal.append("tick", data);
}

std::string PageModel::snapshot(std::string_view header) const {
  std::string out = "{";
  out += header;
  if (!header.empty())
    out += ',';
  out += "\"pool\":";
  out += pool_;
  out += ",\"ips\":[";
  bool first = true;
  for (const std::string& id : order_) {
    out += first ? "" : ",";
    out += rows_.at(id).slow;
    first = false;
  }
  out += "],\"traffic\":[";
  first = true;
  for (const std::string& id : order_) {
    out += first ? "" : ",";
    out += rows_.at(id).fast;
    first = false;
  }
  out += "],\"decisions\":[";
  first = true;
  for (const std::string& d : decisions_) {
    out += first ? "" : ",";
    out += d;
    first = false;
  }
  out += "]}";
  return out;
}

}  // namespace ipm::probe
