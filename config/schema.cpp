#include "config/schema.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include <yaml-cpp/yaml.h>
#include <boost/json.hpp>

#include "config/cidr.hpp"
#include "config/dispatch.hpp"
#include "config/errors.hpp"

namespace ipm::config {
namespace {

namespace json = boost::json;
using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

// --- reading one YAML scalar, with messages that name the key ---

std::string describe(const YAML::Node& node) {
  if (node.IsSequence())
    return "a list";
  if (node.IsMap())
    return "a mapping";
  if (node.IsNull())
    return "nothing";
  return "'" + node.Scalar() + "'";
}

const std::string& scalar(std::string_view key, const YAML::Node& node, std::string_view want) {
  if (!node.IsScalar()) {
    throw ConfigError(std::string(key),
                      "expected " + std::string(want) + ", got " + describe(node));
  }
  return node.Scalar();
}

long long read_integer(std::string_view key, const YAML::Node& node, long long min, long long max,
                       std::string_view want = "an integer") {
  const std::string& text = scalar(key, node, want);
  long long value = 0;
  try {
    value = node.as<long long>();
  } catch (const YAML::Exception&) {
    throw ConfigError(std::string(key), "expected " + std::string(want) + ", got '" + text + "'");
  }
  if (value < min || value > max) {
    throw ConfigError(std::string(key), "must be between " + std::to_string(min) + " and " +
                                            std::to_string(max) + ", got " + std::to_string(value));
  }
  return value;
}

double read_number(std::string_view key, const YAML::Node& node, double min, double max,
                   bool min_inclusive = true) {
  const std::string& text = scalar(key, node, "a number");
  double value = 0;
  try {
    value = node.as<double>();
  } catch (const YAML::Exception&) {
    throw ConfigError(std::string(key), "expected a number, got '" + text + "'");
  }
  const bool low = min_inclusive ? value < min : value <= min;
  if (!std::isfinite(value) || low || value > max) {
    std::string range = (min_inclusive ? "between " : "above ") + std::to_string(min) +
                        (min_inclusive ? " and " : " and at most ") + std::to_string(max);
    throw ConfigError(std::string(key), "must be " + range + ", got " + text);
  }
  return value;
}

std::string read_string(std::string_view key, const YAML::Node& node, bool allow_empty) {
  std::string value = scalar(key, node, "a string");
  if (!allow_empty && value.empty())
    throw ConfigError(std::string(key), "must not be empty");
  return value;
}

bool read_bool(std::string_view key, const YAML::Node& node) {
  const std::string& text = scalar(key, node, "true or false");
  try {
    return node.as<bool>();
  } catch (const YAML::Exception&) {
    throw ConfigError(std::string(key), "expected true or false, got '" + text + "'");
  }
}

Millis read_duration(std::string_view key, const YAML::Node& node, Millis bare_unit) {
  const std::string& text = scalar(key, node, "a duration");
  std::string why;
  auto d = parse_duration(text, bare_unit, why);
  if (!d)
    throw ConfigError(std::string(key), why);
  return *d;
}

template <class Enum, std::size_t N>
Enum read_enum(std::string_view key, const YAML::Node& node,
               const std::array<std::pair<std::string_view, Enum>, N>& names) {
  const std::string& text = scalar(key, node, "a name");
  for (const auto& [name, value] : names) {
    if (text == name)
      return value;
  }
  std::string allowed;
  for (const auto& [name, value] : names) {
    allowed += (allowed.empty() ? "" : ", ") + std::string(name);
  }
  throw ConfigError(std::string(key), "'" + text + "' is not one of: " + allowed);
}

bool is_ip_address(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

// --- builders: one line per key in the table below ---

template <class T>
using Member = T Config::*;

KeySpec typed(std::string_view type, KeySpec k) {
  k.type = type;
  return k;
}

template <class T>
KeySpec with_copy(Member<T> m, KeySpec k) {
  k.copy = [m](const Config& from, Config& to) { to.*m = from.*m; };
  k.equal = [m](const Config& a, const Config& b) { return a.*m == b.*m; };
  return k;
}

// What a port of 0 means for a key: not allowed, "none" (shown as ""), or "any free port"
// (the kernel picks one; the bound port is in the startup log line).
enum class PortZero { refused, none, any };

KeySpec port_key(std::string_view name, std::string_view doc, Member<std::uint16_t> m,
                 PortZero zero = PortZero::refused) {
  return typed(
      "port", with_copy(m, {name, doc,
                            [name, m, zero](const YAML::Node& n, Config& c) {
                              // The Go tool writes ports as strings ("9091"); an empty string means
                              // "none".
                              if (zero == PortZero::none && n.IsScalar() && n.Scalar().empty()) {
                                c.*m = 0;
                                return;
                              }
                              const bool zero_ok = zero != PortZero::refused;
                              c.*m = static_cast<std::uint16_t>(read_integer(
                                  name, n, zero_ok ? 0 : 1, 65535,
                                  zero_ok ? "a port number (0-65535)" : "a port number (1-65535)"));
                            },
                            [m, zero](const Config& c) -> json::value {
                              // Shown as the Go tool shows it: a string, "" for none.
                              if (c.*m == 0 && zero == PortZero::none)
                                return json::value("");
                              return json::value(std::to_string(c.*m));
                            }}));
}

KeySpec uint_key(std::string_view name, std::string_view doc, Member<std::uint32_t> m,
                 long long min, long long max) {
  return typed("integer",
               with_copy(m, {name, doc,
                             [name, m, min, max](const YAML::Node& n, Config& c) {
                               c.*m = static_cast<std::uint32_t>(read_integer(name, n, min, max));
                             },
                             [m](const Config& c) -> json::value { return c.*m; }}));
}

KeySpec number_key(std::string_view name, std::string_view doc, Member<double> m, double min,
                   double max, bool min_inclusive = true) {
  return typed("number", with_copy(m, {name, doc,
                                       [=](const YAML::Node& n, Config& c) {
                                         c.*m = read_number(name, n, min, max, min_inclusive);
                                       },
                                       [m](const Config& c) -> json::value { return c.*m; }}));
}

KeySpec bool_key(std::string_view name, std::string_view doc, Member<bool> m) {
  return typed(
      "boolean",
      with_copy(
          m, {name, doc, [name, m](const YAML::Node& n, Config& c) { c.*m = read_bool(name, n); },
              [m](const Config& c) -> json::value { return c.*m; }}));
}

KeySpec string_key(std::string_view name, std::string_view doc, Member<std::string> m,
                   bool allow_empty = false) {
  return typed("string",
               with_copy(m, {name, doc,
                             [=](const YAML::Node& n, Config& c) {
                               c.*m = read_string(name, n, allow_empty);
                             },
                             [m](const Config& c) -> json::value { return json::value(c.*m); }}));
}

KeySpec address_key(std::string_view name, std::string_view doc, Member<std::string> m) {
  return typed("IP address",
               with_copy(m, {name, doc,
                             [name, m](const YAML::Node& n, Config& c) {
                               std::string v = read_string(name, n, false);
                               if (!is_ip_address(v)) {
                                 throw ConfigError(std::string(name),
                                                   "'" + v + "' is not an IP address");
                               }
                               c.*m = v;
                             },
                             [m](const Config& c) -> json::value { return json::value(c.*m); }}));
}

// A duration key. The Go tool's keys are shown as integers in their own unit (what its
// users' dashboards and scripts read); new keys are shown with a unit ("5m").
KeySpec duration_key(std::string_view name, std::string_view doc, Member<Millis> m,
                     Millis bare_unit, bool show_in_unit = false) {
  return typed("duration",
               with_copy(m, {name, doc,
                             [name, m, bare_unit](const YAML::Node& n, Config& c) {
                               c.*m = read_duration(name, n, bare_unit);
                             },
                             [m, bare_unit, show_in_unit](const Config& c) -> json::value {
                               if (show_in_unit && (c.*m).count() % bare_unit.count() == 0) {
                                 return (c.*m).count() / bare_unit.count();
                               }
                               return json::value(format_duration(c.*m));
                             }}));
}

constexpr std::array<std::pair<std::string_view, Mode>, 2> kModes{
    {{"serve", Mode::serve}, {"parse", Mode::parse}}};
constexpr std::array<std::pair<std::string_view, Selection>, 4> kSelections{
    {{"random", Selection::random},
     {"round_robin", Selection::round_robin},
     {"weighted", Selection::weighted},
     {"least_conn", Selection::least_conn}}};
constexpr std::array<std::pair<std::string_view, AllUnavailable>, 2> kAllUnavailable{
    {{"least_bad", AllUnavailable::least_bad}, {"refuse", AllUnavailable::refuse}}};
constexpr std::array<std::pair<std::string_view, LogStyle>, 2> kLogStyles{
    {{"text", LogStyle::text}, {"json", LogStyle::json}}};

// An egress id: an IP (nginx and source egresses) or host:port (upstream proxies).
bool is_egress_id(const std::string& id) {
  if (is_ip_address(id))
    return true;
  const auto colon = id.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == id.size())
    return false;
  for (std::size_t i = colon + 1; i < id.size(); ++i) {
    if (id[i] < '0' || id[i] > '9')
      return false;
  }
  return true;
}

KeySpec weights_key(std::string_view name, std::string_view doc) {
  return typed("map IP: integer",
               with_copy(&Config::weights,
                         {name, doc,
                          [name](const YAML::Node& n, Config& c) {
                            if (!n.IsMap()) {
                              throw ConfigError(std::string(name),
                                                "expected a mapping of egress to weight "
                                                "({10.0.3.1: 2, 10.0.3.2: 0}), got " +
                                                    describe(n));
                            }
                            std::map<std::string, std::uint32_t> weights;
                            for (const auto& entry : n) {
                              const std::string id = scalar(name, entry.first, "an egress IP");
                              if (!is_egress_id(id)) {
                                throw ConfigError(std::string(name),
                                                  "'" + id + "' is not an egress IP or host:port");
                              }
                              const std::string key = std::string(name) + "." + id;
                              weights[id] = static_cast<std::uint32_t>(read_integer(
                                  key, entry.second, 0, 1'000'000, "a weight (0-1000000)"));
                            }
                            c.weights = std::move(weights);
                          },
                          [](const Config& c) -> json::value {
                            json::object o;
                            for (const auto& [id, w] : c.weights)
                              o[id] = w;
                            return o;
                          }}));
}

KeySpec cidr_list_key(std::string_view name, std::string_view doc,
                      Member<std::vector<std::string>> m) {
  return typed("list of CIDRs",
               with_copy(m, {name, doc,
                             [name, m](const YAML::Node& n, Config& c) {
                               std::vector<std::string> list;
                               auto add = [&](const YAML::Node& item) {
                                 const std::string text = scalar(name, item, "an address block");
                                 std::string why;
                                 if (!Cidr::parse(text, why))
                                   throw ConfigError(std::string(name), why);
                                 list.push_back(text);
                               };
                               if (n.IsSequence()) {
                                 for (const auto& item : n)
                                   add(item);
                               } else if (n.IsScalar() && !n.Scalar().empty()) {
                                 add(n);
                               } else if (!n.IsScalar()) {
                                 throw ConfigError(
                                     std::string(name),
                                     "expected a list of address blocks, got " + describe(n));
                               }
                               c.*m = std::move(list);
                             },
                             [m](const Config& c) -> json::value {
                               json::array a;
                               for (const auto& s : c.*m)
                                 a.emplace_back(s);
                               return a;
                             }}));
}
constexpr std::array<std::pair<std::string_view, MetricsPerIp>, 3> kMetricsPerIp{
    {{"all", MetricsPerIp::all},
     {"unavailable", MetricsPerIp::unavailable},
     {"compact", MetricsPerIp::compact}}};
constexpr std::array<std::pair<std::string_view, TargetGrouping>, 3> kTargetGroupings{
    {{"site", TargetGrouping::site},
     {"host", TargetGrouping::host},
     {"none", TargetGrouping::none}}};

template <class Enum, std::size_t N>
KeySpec enum_key(std::string_view name, std::string_view doc, Member<Enum> m,
                 const std::array<std::pair<std::string_view, Enum>, N>& names) {
  return typed("name", with_copy(m, {name, doc,
                                     [name, m, &names](const YAML::Node& n, Config& c) {
                                       c.*m = read_enum(name, n, names);
                                     },
                                     [m, &names](const Config& c) -> json::value {
                                       for (const auto& [text, value] : names) {
                                         if (value == c.*m)
                                           return json::value(text);
                                       }
                                       return nullptr;
                                     }}));
}

void add_status(std::string_view key, const std::string& item, StatusSet& set) {
  // "5xx" means every status of that class; "403" one status.
  if (item.size() == 3 && item[0] >= '1' && item[0] <= '5' && (item[1] == 'x' || item[1] == 'X') &&
      (item[2] == 'x' || item[2] == 'X')) {
    const int base = (item[0] - '0') * 100;
    for (int s = base; s < base + 100; ++s)
      set.bits.set(static_cast<std::size_t>(s));
    set.spec.push_back(std::string(1, item[0]) + "xx");
    return;
  }
  int status = 0;
  const bool digits =
      !item.empty() && item.size() <= 3 &&
      std::all_of(item.begin(), item.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
  if (digits)
    status = std::stoi(item);
  if (!digits || status < 100 || status > 599) {
    throw ConfigError(std::string(key),
                      "'" + item + "' is not an HTTP status (100-599) or a class such as 5xx");
  }
  set.bits.set(static_cast<std::size_t>(status));
  set.spec.push_back(item);
}

KeySpec status_set_key(std::string_view name, std::string_view doc, Member<StatusSet> m) {
  return typed(
      "list of statuses",
      with_copy(m, {name, doc,
                    [name, m](const YAML::Node& n, Config& c) {
                      StatusSet set;
                      if (n.IsScalar()) {
                        add_status(name, n.Scalar(), set);  // a single status is a list of one
                      } else if (n.IsSequence()) {
                        for (const auto& item : n) {
                          add_status(name, scalar(name, item, "a status or class"), set);
                        }
                      } else {
                        throw ConfigError(std::string(name),
                                          "expected a list of statuses, got " + describe(n));
                      }
                      c.*m = std::move(set);
                    },
                    [m](const Config& c) -> json::value {
                      json::array a;
                      for (const auto& s : (c.*m).spec)
                        a.emplace_back(s);
                      return a;
                    }}));
}

// The labels of ipmanager_history_response: a list of names, each at most once.
KeySpec history_labels_key(std::string_view name, std::string_view doc, Member<HistoryLabels> m) {
  return typed(
      "list of labels",
      with_copy(m, {name, doc,
                    [name, m](const YAML::Node& n, Config& c) {
                      if (!n.IsSequence()) {
                        throw ConfigError(std::string(name),
                                          "expected a list such as [ip, status_code, "
                                          "target], got " +
                                              describe(n));
                      }
                      HistoryLabels labels{.ip = false, .status_code = false, .target = false};
                      for (const auto& item : n) {
                        const std::string& label = scalar(name, item, "a label name");
                        bool* flag = label == "ip"            ? &labels.ip
                                     : label == "status_code" ? &labels.status_code
                                     : label == "target"      ? &labels.target
                                                              : nullptr;
                        if (flag == nullptr) {
                          throw ConfigError(
                              std::string(name),
                              "'" + label + "' is not one of: ip, status_code, target");
                        }
                        if (*flag)
                          throw ConfigError(std::string(name), "'" + label + "' is listed twice");
                        *flag = true;
                      }
                      c.*m = labels;
                    },
                    [m](const Config& c) -> json::value {
                      json::array a;
                      if ((c.*m).ip)
                        a.emplace_back("ip");
                      if ((c.*m).status_code)
                        a.emplace_back("status_code");
                      if ((c.*m).target)
                        a.emplace_back("target");
                      return a;
                    }}));
}

std::vector<KeySpec> build_schema() {
  std::vector<KeySpec> keys;
  // The Go tool's keys: names, units and defaults kept.
  keys.push_back(enum_key("mode",
                          "serve: start at the end of the log; parse: replay rotated logs first",
                          &Config::mode, kModes));
  keys.push_back(
      bool_key("debug", "verbose logging: each access-log line left out, and why", &Config::debug));
  keys.push_back(port_key(
      "fix_port", "send every proxied connection to this nginx port (debugging); \"\" for none",
      &Config::fix_port, PortZero::none));
  keys.push_back(port_key("probe_port",
                          "port of the HTTP probe (/ping, /probe, /metrics, API); 0: any free "
                          "port, logged at start",
                          &Config::probe_port, PortZero::any));
  keys.push_back(port_key("proxy_port",
                          "port of the TCP load balancer; 0: any free port, logged at start",
                          &Config::proxy_port, PortZero::any));
  keys.push_back(string_key("next", "the nginx host: connections go to next:PORT", &Config::next));
  keys.push_back(
      duration_key("scan_interval_min",
                   "period of housekeeping (releasing cooled-down IPs); minutes or a duration",
                   &Config::scan_interval, minutes(1), true));
  keys.push_back(string_key("access_log_path",
                            "nginx access log to follow; a %s in it means one log per egress IP",
                            &Config::access_log_path));
  keys.push_back(string_key("upstream_conf_path",
                            "nginx config with one server block per egress IP (required)",
                            &Config::upstream_conf_path));
  keys.push_back(uint_key("max_history_log_each_ip", "history entries kept per IP",
                          &Config::max_history_log_each_ip, 1, 1'000'000));
  keys.push_back(uint_key("max_cool_down_log_each_ip", "cooldown records kept per IP",
                          &Config::max_cool_down_log_each_ip, 1, 1'000'000));
  keys.push_back(duration_key("cool_down_min",
                              "first cooldown of a failing IP; minutes or a duration",
                              &Config::cool_down, minutes(1), true));
  keys.push_back(duration_key("dial_timeout", "proxy connect timeout; seconds or a duration",
                              &Config::dial_timeout, seconds(1), true));
  keys.push_back(
      duration_key("max_connection_timeout",
                   "total lifetime of a proxied connection, 0 for none; seconds or a duration",
                   &Config::max_connection_timeout, seconds(1), true));
  keys.push_back(typed(
      "name", with_copy(&Config::strategy,
                        {"strategy", "health strategy; only 'consecutive'",
                         [](const YAML::Node& n, Config& c) {
                           std::string v = read_string("strategy", n, false);
                           if (v != "consecutive") {
                             throw ConfigError(
                                 "strategy",
                                 "'" + v + "' is not supported (supported: consecutive)");
                           }
                           c.strategy = v;
                         },
                         [](const Config& c) -> json::value { return json::value(c.strategy); }})));
  keys.push_back(uint_key("consecutive_failure", "consecutive failures that make an IP unavailable",
                          &Config::consecutive_failure, 1, 1'000'000));
  keys.push_back({"config_path", "accepted for compatibility with the Go tool; ignored",
                  [](const YAML::Node&, Config&) {},
                  [](const Config&) -> json::value { return nullptr; }, false, true});

  // Scanner.
  keys.push_back(
      string_key("log_format", "nginx log_format string of the access log", &Config::log_format));
  keys.push_back(uint_key("max_line_bytes", "longer log lines are skipped and counted",
                          &Config::max_line_bytes, 256, 64 * 1024 * 1024));
  keys.push_back(duration_key("reconcile_interval",
                              "period of the stat check that backs up inotify",
                              &Config::reconcile_interval, seconds(1)));

  // Strategy.
  keys.push_back(duration_key("failure_window",
                              "consecutive failures count only within this window",
                              &Config::failure_window, seconds(1)));
  keys.push_back(status_set_key("failure_statuses",
                                "statuses that count as an IP failure (e.g. [403, 429, 5xx])",
                                &Config::failure_statuses));
  keys.push_back(duration_key("max_cool_down",
                              "cap of the doubled cooldown after failed probations",
                              &Config::max_cool_down, seconds(1)));
  keys.push_back(number_key("cool_down_jitter", "random +- fraction applied to each cooldown (0-1)",
                            &Config::cool_down_jitter, 0.0, 1.0));
  keys.push_back(duration_key("backoff_decay_after",
                              "healthy time after which the cooldown multiplier halves",
                              &Config::backoff_decay_after, seconds(1)));
  keys.push_back(uint_key("max_ejected_percent", "most of the pool that may be out at once (0-100)",
                          &Config::max_ejected_percent, 0, 100));
  keys.push_back(enum_key("all_unavailable",
                          "when every IP is out: least_bad (use the least bad) or refuse",
                          &Config::all_unavailable, kAllUnavailable));
  keys.push_back(number_key("probation_share",
                            "traffic share of an IP on probation, relative to a healthy one",
                            &Config::probation_share, 0.0, 1.0, false));
  keys.push_back(enum_key("selection", "random, round_robin, weighted or least_conn",
                          &Config::selection, kSelections));

  // Health per target site.
  keys.push_back(enum_key("target_grouping",
                          "per-target health by site (registrable domain), host, or none",
                          &Config::target_grouping, kTargetGroupings));
  keys.push_back(string_key("target_variable", "log_format variable holding a line's target host",
                            &Config::target_variable));
  keys.push_back(uint_key("max_sites_per_ip",
                          "failing sites tracked per IP; the least recently failed is dropped",
                          &Config::max_sites_per_ip, 1, 100'000));
  keys.push_back(uint_key("failing_sites_to_eject",
                          "distinct sites failing on an IP within failure_window that eject it "
                          "for every site; 0: never",
                          &Config::failing_sites_to_eject, 0, 100'000));

  // Proxy.
  keys.push_back(address_key("proxy_host", "address the proxy listens on", &Config::proxy_host));
  keys.push_back(uint_key("dial_retries", "other IPs tried after a failed dial",
                          &Config::dial_retries, 0, 100));
  keys.push_back(duration_key("idle_timeout", "a proxied connection idle this long is closed",
                              &Config::idle_timeout, seconds(1)));
  keys.push_back(duration_key("close_timeout",
                              "time allowed for the other side to finish after a half-close",
                              &Config::close_timeout, seconds(1)));
  keys.push_back(uint_key("max_connections",
                          "concurrent proxied connections (fewer if the descriptor limit "
                          "cannot hold them); accepting pauses at the cap",
                          &Config::max_connections, 1, 10'000'000));
  keys.push_back(duration_key("drain_timeout", "on SIGTERM, time open connections get to finish",
                              &Config::drain_timeout, seconds(1)));
  keys.push_back(uint_key("proxy_threads",
                          "proxy threads, 0 for one per CPU the process may use (affinity "
                          "mask, cgroup CPU quota)",
                          &Config::proxy_threads, 0, 1024));
  keys.push_back(bool_key("proxy_splice",
                          "relay bulk transfers with splice(2); slower over loopback (README)",
                          &Config::proxy_splice));

  // Probe.
  keys.push_back(address_key("probe_host", "address the probe listens on", &Config::probe_host));
  keys.push_back(with_copy(
      &Config::api_token,
      {"api_token", "bearer token for mutating API routes; empty: loopback clients only",
       [](const YAML::Node& n, Config& c) { c.api_token = read_string("api_token", n, true); },
       [](const Config& c) -> json::value {
         return json::value(c.api_token.empty() ? "" : "<redacted>");
       },
       true}));
  keys.push_back(uint_key("probe_max_connections", "concurrent probe connections",
                          &Config::probe_max_connections, 1, 1'000'000));
  keys.push_back(uint_key("probe_max_event_streams",
                          "concurrent live streams of the web page (GET /api/events), counted "
                          "apart from probe_max_connections",
                          &Config::probe_max_event_streams, 1, 100'000));
  keys.push_back(
      uint_key("history_target_label_cap",
               "targets kept as labels of ipmanager_history_response; the rest are 'other'",
               &Config::history_target_label_cap, 0, 10'000));
  keys.push_back(enum_key("metrics_per_ip",
                          "IPs with per-IP series: all; unavailable (the Go tool's four gauges for "
                          "every IP, the rest only for IPs not available); compact (only IPs "
                          "not available)",
                          &Config::metrics_per_ip, kMetricsPerIp));
  keys.push_back(history_labels_key("metrics_history_labels",
                                    "labels of ipmanager_history_response, any of ip (with port), "
                                    "status_code, target; the Go tool's: [ip, status_code, target]",
                                    &Config::metrics_history_labels));
  keys.push_back(uint_key("metrics_max_series",
                          "most series /metrics serves; per-IP series past it are left out, "
                          "with a warning (0: no cap)",
                          &Config::metrics_max_series, 0, 100'000'000));
  keys.push_back(uint_key("decisions_kept", "proxy decisions kept for /api/decisions",
                          &Config::decisions_kept, 1, 1'000'000));
  keys.push_back(string_key("api_token_file",
                            "file holding api_token (systemd LoadCredential=); \"\" for none",
                            &Config::api_token_file, true));
  keys.push_back(bool_key("require_token_for_reads",
                          "read routes need the token too (/ping and /ready stay open)",
                          &Config::require_token_for_reads));

  // Operations.
  keys.push_back(
      string_key("state_dir", "where operator actions are journaled", &Config::state_dir));
  keys.push_back(enum_key("log_style", "text or json (one JSON object per line)",
                          &Config::log_style, kLogStyles));
  keys.push_back(
      weights_key("weights", "egress IP -> weight for weighted and least_conn; 0 drains it"));
  keys.push_back(cidr_list_key("proxy_allow_clients",
                               "address blocks the proxy serves; [] for every client",
                               &Config::proxy_allow_clients));

  // Front ends and egresses beyond nginx (dispatch mode).
  keys.push_back(typed(
      "list of front ends",
      with_copy(
          &Config::listen,
          {"listen",
           "front ends, each {type: tcp, socks, http, mixed or redirect; host; port; users: "
           "[{name, "
           "password}]; sticky: none, client, username, key or destination}; "
           "empty: tcp on proxy_host:proxy_port",
           [](const YAML::Node& n, Config& c) { c.listen = read_listeners(n); },
           [](const Config& c) -> json::value {
             json::array a;
             for (const auto& l : c.listen) {
               json::array users;
               for (const auto& u : l.users)
                 users.emplace_back(json::object{{"name", u.name}, {"password", "<redacted>"}});
               a.emplace_back(json::object{{"type", to_string(l.type)},
                                           {"host", l.host},
                                           {"port", l.port},
                                           {"users", std::move(users)},
                                           {"sticky", to_string(l.sticky)}});
             }
             return a;
           }})));
  keys.push_back(typed(
      "list of egresses",
      with_copy(
          &Config::egresses,
          {"egresses",
           "source IPs and upstream proxies, each {kind: source, address or interface, weight} or "
           "{kind: upstream, host, port, protocol: socks5, socks4 or http, username, password, "
           "weight}; either with check: tcp://HOST:PORT or http://HOST[:PORT]/PATH and "
           "check_interval (30s)",
           [](const YAML::Node& n, Config& c) { c.egresses = read_egresses(n); },
           [](const Config& c) -> json::value {
             json::array a;
             for (const auto& e : c.egresses) {
               json::object o{{"kind", to_string(e.kind)}, {"weight", e.weight}};
               if (e.check) {
                 o["check"] = e.check->text;
                 o["check_interval"] = format_duration(e.check_interval);
               }
               if (e.kind == EgressKind::source) {
                 o["address"] = e.address;
                 o["interface"] = e.interface;
               } else {
                 o["host"] = e.host;
                 o["port"] = e.port;
                 o["protocol"] = to_string(e.protocol);
                 o["username"] = e.username;
                 o["password"] = e.password.empty() ? "" : "<redacted>";
               }
               a.emplace_back(std::move(o));
             }
             return a;
           }})));
  keys.push_back(duration_key("handshake_timeout",
                              "time a socks/http client gets to send its request",
                              &Config::handshake_timeout, seconds(1)));
  keys.push_back(bool_key("allow_open_proxy",
                          "let a socks/http front end without users listen beyond loopback",
                          &Config::allow_open_proxy));
  for (const auto& [name, doc, member] :
       {std::tuple{"allow_destinations",
                   "CIDR[:port] destinations allowed although refused by default (link-local, "
                   "the host's own addresses)",
                   &Config::allow_destinations},
        std::tuple{"deny_destinations", "CIDR[:port] destinations refused",
                   &Config::deny_destinations}}) {
    const std::string_view key = name;
    auto m = member;
    keys.push_back(
        typed("list of CIDR[:port]", with_copy(m, {key, doc,
                                                   [key, m](const YAML::Node& n, Config& c) {
                                                     c.*m = read_address_rules(key, n);
                                                   },
                                                   [m](const Config& c) -> json::value {
                                                     json::array a;
                                                     for (const auto& r : c.*m)
                                                       a.emplace_back(r.text);
                                                     return a;
                                                   }})));
  }
  keys.push_back(uint_key("resolver_threads",
                          "threads that resolve domain destinations (getaddrinfo)",
                          &Config::resolver_threads, 1, 256));
  keys.push_back(string_key("source_ip_rules",
                            "the enhanced go-dispatch-proxy's source_ip_rules.json: per-client "
                            "ratios per egress, longest prefix first, reread on SIGHUP; \"\" "
                            "for none",
                            &Config::source_ip_rules, true));
  keys.push_back(uint_key("max_connections_per_client",
                          "concurrent connections one client may hold; the next is refused "
                          "(SOCKS5 0x02, SOCKS4 0x5B, HTTP 429, a FIN on tcp); 0: no cap",
                          &Config::max_connections_per_client, 0, 10'000'000));
  keys.push_back(uint_key("max_connections_per_client_egress",
                          "concurrent connections one client may hold through one egress; "
                          "past it the client gets another egress, or is refused; 0: no cap",
                          &Config::max_connections_per_client_egress, 0, 10'000'000));
  keys.push_back(uint_key("client_prefix_v4",
                          "IPv4 clients are counted by this prefix (32: each address, 24: each "
                          "/24)",
                          &Config::client_prefix_v4, 1, 32));
  keys.push_back(uint_key("client_prefix_v6",
                          "IPv6 clients are counted by this prefix (128: each address, 64: each "
                          "/64)",
                          &Config::client_prefix_v6, 1, 128));
  keys.push_back(duration_key("stats_interval",
                              "print the statistics block (the enhanced go-dispatch-proxy's "
                              "-stats) on stdout this often; 0: only on SIGUSR1",
                              &Config::stats_interval, seconds(1)));

  // Gateway mode.
  keys.push_back(cidr_list_key("gateway_subnets",
                               "gateway mode's client subnets: the redirect rules' sources and "
                               "the clients the DNS forwarder answers",
                               &Config::gateway_subnets));
  keys.push_back(bool_key("gateway_auto_config",
                          "install the redirect rules in nftables (table inet ipmanager) at "
                          "start and remove them on exit; needs CAP_NET_ADMIN",
                          &Config::gateway_auto_config));
  keys.push_back(string_key("gateway_nat_interface",
                            "with gateway_auto_config: masquerade the subnets' other traffic "
                            "(UDP, ICMP) leaving by this interface; \"\" for none",
                            &Config::gateway_nat_interface, true));
  keys.push_back(address_key("dns_host", "address of the DNS forwarder", &Config::dns_host));
  keys.push_back(port_key("dns_port",
                          "port of the DNS forwarder (UDP and TCP) for gateway_subnets; 0: none",
                          &Config::dns_port, PortZero::none));
  keys.push_back(typed(
      "list of IP[:port]",
      with_copy(&Config::dns_upstreams,
                {"dns_upstreams",
                 "resolvers the DNS forwarder relays to, from a source egress's address "
                 "(\"192.0.2.53\", \"[2001:db8::53]:53\")",
                 [](const YAML::Node& n, Config& c) { c.dns_upstreams = read_dns_upstreams(n); },
                 [](const Config& c) -> json::value {
                   json::array a;
                   for (const auto& u : c.dns_upstreams)
                     a.emplace_back(u);
                   return a;
                 }})));
  keys.push_back(duration_key("dns_timeout", "time an upstream resolver gets to answer a query",
                              &Config::dns_timeout, seconds(1)));
  keys.push_back(uint_key("dns_max_in_flight",
                          "DNS queries relayed at once; more are answered SERVFAIL at once",
                          &Config::dns_max_in_flight, 1, 1'000'000));

  // What a running process applies on SIGHUP (app/service.cpp): logging, the pool config
  // path, the probe's token and label cap, and the strategy and selection keys.
  for (const std::string_view live : {"debug",
                                      "upstream_conf_path",
                                      "cool_down_min",
                                      "consecutive_failure",
                                      "failure_window",
                                      "failure_statuses",
                                      "max_cool_down",
                                      "cool_down_jitter",
                                      "backoff_decay_after",
                                      "max_ejected_percent",
                                      "all_unavailable",
                                      "probation_share",
                                      "selection",
                                      "api_token",
                                      "history_target_label_cap",
                                      "api_token_file",
                                      "require_token_for_reads",
                                      "log_style",
                                      "weights",
                                      "metrics_per_ip",
                                      "metrics_history_labels",
                                      "metrics_max_series",
                                      "max_sites_per_ip",
                                      "failing_sites_to_eject",
                                      "source_ip_rules",
                                      "egresses"}) {
    const auto it =
        std::find_if(keys.begin(), keys.end(), [live](const KeySpec& k) { return k.name == live; });
    if (it == keys.end())
      throw std::logic_error("schema: unknown live key " + std::string(live));
    it->live = true;
  }
  return keys;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j)
    row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

}  // namespace

std::span<const KeySpec> schema() {
  static const std::vector<KeySpec> keys = build_schema();
  return keys;
}

const KeySpec* find_key(std::string_view name) {
  for (const auto& k : schema()) {
    if (k.name == name)
      return &k;
  }
  return nullptr;
}

std::string_view closest_key(std::string_view name) {
  std::string_view best;
  std::size_t best_distance = std::numeric_limits<std::size_t>::max();
  for (const auto& k : schema()) {
    const std::size_t d = edit_distance(name, k.name);
    if (d < best_distance) {
      best_distance = d;
      best = k.name;
    }
  }
  // Close enough to be a typo: a few edits, and fewer than half the name.
  return best_distance <= std::max<std::size_t>(2, name.size() / 3) ? best : std::string_view{};
}

}  // namespace ipm::config
