#pragma once

#include <bitset>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "config/dispatch.hpp"
#include "config/duration.hpp"

namespace ipm::config {

enum class Mode : std::uint8_t { serve, parse };
enum class Selection : std::uint8_t { random, round_robin, weighted, least_conn };
enum class AllUnavailable : std::uint8_t { least_bad, refuse };
enum class LogStyle : std::uint8_t { text, json };
/// Which IPs get per-IP series in /metrics (metrics_per_ip).
///   all:         every per-IP family for every IP;
///   unavailable: the Go tool's four gauges for every IP, the other per-IP families only
///                for IPs that are not available (cooling, probation, banned);
///   compact:     per-IP series, the Go tool's gauges included, only for those IPs.
enum class MetricsPerIp : std::uint8_t { all, unavailable, compact };

/// The labels ipmanager_history_response carries (metrics_history_labels). `ip` brings
/// `port` with it, as in the Go tool, whose set is {ip, status_code, target}.
struct HistoryLabels {
  bool ip = false;
  bool status_code = true;
  bool target = false;
  bool operator==(const HistoryLabels&) const = default;
};

/// What a target host counts as for per-target health: its registrable domain (site), the
/// exact host, or nothing (health per egress only).
enum class TargetGrouping : std::uint8_t { site, host, none };

/// The set of HTTP statuses that count as a failure of the egress IP.
struct StatusSet {
  std::bitset<600> bits;
  std::vector<std::string> spec;  ///< as written: "403", "5xx", ...

  friend bool operator==(const StatusSet&, const StatusSet&) = default;

  bool contains(int status) const {
    return status >= 0 && status < 600 && bits.test(static_cast<std::size_t>(status));
  }
};

/// The nginx log format the Go tool's deployments use (see deploy/nginx/log_format.conf).
inline constexpr const char* kDefaultLogFormat =
    R"($remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent )"
    R"("$http_referer" "$http_user_agent" $server_addr:$server_port )"
    R"(egress=$server_name upstream_status=$upstream_status rt=$request_time )"
    R"(Exgress_key: $http_x_egress_key -> Request Host: $http_x_egress_host <-)";

/// The effective configuration. Every field has the default documented in README.md;
/// the Go tool's keys keep its names, units and defaults (see config/schema.cpp).
struct Config {
  // --- the Go tool's keys ---
  Mode mode = Mode::serve;
  bool debug = false;
  std::uint16_t fix_port = 0;  ///< 0: no fixed port (debugging aid: every connection to it)
  std::uint16_t probe_port = 9095;
  std::uint16_t proxy_port = 9096;
  std::string next = "127.0.0.1";
  Millis scan_interval{std::chrono::minutes(5)};  ///< key scan_interval_min
  std::string access_log_path = "/var/log/nginx/host.access.log";
  std::string upstream_conf_path;  ///< required
  std::uint32_t max_history_log_each_ip = 1000;
  std::uint32_t max_cool_down_log_each_ip = 1000;
  Millis cool_down{std::chrono::minutes(10)};  ///< key cool_down_min
  Millis dial_timeout{std::chrono::seconds(15)};
  Millis max_connection_timeout{0};  ///< 0: no total lifetime limit
  std::string strategy = "consecutive";
  std::uint32_t consecutive_failure = 3;

  // --- scanner ---
  std::string log_format = kDefaultLogFormat;
  std::uint32_t max_line_bytes = 64 * 1024;
  Millis reconcile_interval{std::chrono::seconds(1)};

  // --- strategy ---
  Millis failure_window{std::chrono::minutes(5)};
  StatusSet failure_statuses;  ///< default 403, 407, 429, 5xx (set by the schema)
  Millis max_cool_down{std::chrono::hours(1)};
  double cool_down_jitter = 0.1;  ///< +- fraction applied to each cooldown
  Millis backoff_decay_after{std::chrono::minutes(30)};
  std::uint32_t max_ejected_percent = 50;
  AllUnavailable all_unavailable = AllUnavailable::least_bad;
  double probation_share = 0.1;  ///< share of a healthy IP's traffic while on probation

  // --- health per target site ---
  TargetGrouping target_grouping = TargetGrouping::site;
  std::string target_variable = "http_x_egress_host";  ///< log_format variable of the target
  std::uint32_t max_sites_per_ip = 64;       ///< per-site states kept per IP (LRU-failed out)
  std::uint32_t failing_sites_to_eject = 5;  ///< distinct failing sites that eject for all

  // --- pool selection ---
  Selection selection = Selection::least_conn;

  // --- proxy ---
  std::string proxy_host = "127.0.0.1";
  std::uint32_t dial_retries = 3;  ///< other IPs tried after a failed dial
  Millis idle_timeout{std::chrono::minutes(5)};
  Millis close_timeout{std::chrono::seconds(10)};
  std::uint32_t max_connections = 10000;
  Millis drain_timeout{std::chrono::seconds(30)};
  std::uint32_t proxy_threads = 0;  ///< 0: one per usable CPU (affinity, cgroup quota)
  bool proxy_splice = false;        ///< bulk bursts through pipes with splice(2), uncopied

  // --- probe ---
  std::string probe_host = "127.0.0.1";
  std::string api_token;  ///< secret: never echoed by /config
  std::uint32_t probe_max_connections = 256;
  std::uint32_t probe_max_event_streams = 32;
  std::uint32_t history_target_label_cap = 20;
  // --- metrics cardinality (README "Large pools") ---
  MetricsPerIp metrics_per_ip = MetricsPerIp::unavailable;
  HistoryLabels metrics_history_labels;
  std::uint32_t metrics_max_series = 50'000;  ///< 0: no cap
  std::uint32_t decisions_kept = 1000;
  /// api_token read from this file (systemd's LoadCredential=); "" for none.
  std::string api_token_file;
  /// The read routes (/probe, /config, /api/..., /metrics) need the token too; /ping and
  /// /ready stay open for health checks.
  bool require_token_for_reads = false;

  // --- operations ---
  /// Where operator actions (bans, unbans, resets, weights) are journaled.
  std::string state_dir = "/var/lib/ipmanager";
  LogStyle log_style = LogStyle::text;
  /// Egress id (the IP for nginx egresses) -> weight; 0 drains it. Unlisted: 1.
  std::map<std::string, std::uint32_t> weights;
  /// Clients the proxy serves, as address blocks; empty: every client that reaches it.
  std::vector<std::string> proxy_allow_clients;

  // --- front ends and egresses beyond nginx (dispatch mode; config/dispatch.hpp) ---
  std::vector<Listener> listen;  ///< empty: one tcp front end on proxy_host:proxy_port
  std::vector<EgressSpec> egresses;
  Millis handshake_timeout{std::chrono::seconds(10)};
  bool allow_open_proxy = false;
  std::vector<AddressRule> allow_destinations;  ///< allowed although refused by default
  std::vector<AddressRule> deny_destinations;   ///< refused besides the defaults
  std::uint32_t resolver_threads = 4;
  /// The enhanced go-dispatch-proxy's source_ip_rules.json (per-client ratios per egress);
  /// "" for none. Read by the app (clients::SourceIpRules) at start and on every SIGHUP.
  std::string source_ip_rules;
  /// Concurrent connections one client may hold (0: no cap), in all and through one egress;
  /// a client is its address masked to client_prefix_v4 / client_prefix_v6 bits.
  std::uint32_t max_connections_per_client = 0;
  std::uint32_t max_connections_per_client_egress = 0;
  std::uint32_t client_prefix_v4 = 32;
  std::uint32_t client_prefix_v6 = 128;
  /// How often the statistics block (the enhanced go-dispatch-proxy's -stats) is printed on
  /// stdout; 0: only on SIGUSR1.
  Millis stats_interval{0};

  // --- gateway mode (a redirect front end for a client subnet; gateway/) ---
  /// The client subnets: the redirect rules' sources, and the clients the DNS forwarder
  /// answers.
  std::vector<std::string> gateway_subnets;
  /// Install the redirect rules in nftables' `inet ipmanager` table at start, removed on exit.
  bool gateway_auto_config = false;
  /// Masquerade the subnets' other traffic (UDP, ICMP) leaving by this interface; "": none.
  std::string gateway_nat_interface;
  /// The DNS forwarder for the gateway's clients (UDP and TCP); port 0: none.
  std::string dns_host = "127.0.0.1";
  std::uint16_t dns_port = 0;
  std::vector<std::string> dns_upstreams;  ///< resolvers, "IP" or "IP:port" ("[v6]:port")
  Millis dns_timeout{std::chrono::seconds(5)};
  std::uint32_t dns_max_in_flight = 1024;

  Config();

  /// The front ends in force: `listen`, or the tcp front end on proxy_host:proxy_port.
  std::vector<Listener> front_ends() const;
};

std::string_view to_string(Mode m);
std::string_view to_string(Selection s);
std::string_view to_string(AllUnavailable a);
std::string_view to_string(LogStyle s);
std::string_view to_string(MetricsPerIp m);

std::string_view to_string(TargetGrouping g);

}  // namespace ipm::config
