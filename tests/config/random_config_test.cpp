// Random configs (fixed seeds, so a failure reproduces): valid ones, built from values each
// key accepts, load and show themselves as JSON that loads back to the same view; mutated
// ones load or are refused with a ConfigError that names a key or a place in the file,
// never anything else.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <boost/json/serialize.hpp>

#include "config/errors.hpp"
#include "config/json_view.hpp"
#include "config/load.hpp"
#include "config/schema.hpp"

namespace {

using ipm::config::ConfigError;
using ipm::config::load_text;
using ipm::config::no_env;

// Values each key accepts, as they may appear in a YAML file.
const std::map<std::string, std::vector<std::string>> kValid = {
    {"mode", {"serve", "parse"}},
    {"debug", {"true", "false"}},
    {"fix_port", {"\"\"", "19001", "\"19002\""}},
    {"probe_port", {"9095", "\"9100\"", "0"}},
    {"proxy_port", {"9096", "\"9200\"", "0"}},
    {"next", {"127.0.0.1", "10.0.0.1", "nginx.internal"}},
    {"scan_interval_min", {"5", "1s", "\"2m\""}},
    {"access_log_path", {"/var/log/nginx/host.access.log", "'/var/log/%s.log'"}},
    {"max_history_log_each_ip", {"1", "1000"}},
    {"max_cool_down_log_each_ip", {"1", "50"}},
    {"cool_down_min", {"10", "\"90s\"", "1h"}},
    {"dial_timeout", {"15", "250ms", "\"2s\""}},
    {"max_connection_timeout", {"0", "100", "1h30m"}},
    {"strategy", {"consecutive"}},
    {"consecutive_failure", {"1", "3", "10"}},
    {"config_path", {"/etc/ipmanager/config.json"}},
    {"max_line_bytes", {"4096", "65536"}},
    {"reconcile_interval", {"1s", "200ms"}},
    {"failure_window", {"5m", "1h"}},
    {"failure_statuses", {"[403, 5xx]", "[\"429\", 503]", "[]"}},
    {"cool_down_jitter", {"0", "0.1", "1"}},
    {"backoff_decay_after", {"30m", "10s"}},
    {"max_ejected_percent", {"0", "50", "100"}},
    {"all_unavailable", {"least_bad", "refuse"}},
    {"probation_share", {"0.1", "1"}},
    {"selection", {"random", "round_robin", "weighted", "least_conn"}},
    {"target_grouping", {"site", "host", "none"}},
    {"target_variable", {"http_x_egress_host", "host"}},
    {"max_sites_per_ip", {"64", "100000"}},
    {"failing_sites_to_eject", {"0", "5"}},
    {"proxy_host", {"127.0.0.1", "\"::1\""}},
    {"dial_retries", {"0", "3"}},
    {"idle_timeout", {"5m", "1s"}},
    {"close_timeout", {"10s", "0"}},
    {"max_connections", {"1", "10000"}},
    {"drain_timeout", {"30s", "0"}},
    {"proxy_threads", {"0", "2"}},
    {"proxy_splice", {"true", "false"}},
    {"probe_host", {"127.0.0.1", "127.0.0.2"}},
    {"api_token", {"\"\"", "s3cret"}},
    {"probe_max_connections", {"8", "256"}},
    {"probe_max_event_streams", {"1", "32"}},
    {"history_target_label_cap", {"0", "20"}},
    {"metrics_per_ip", {"all", "unavailable", "compact"}},
    {"metrics_history_labels", {"[]", "[status_code]", "[ip, status_code, target]"}},
    {"metrics_max_series", {"0", "50000"}},
    {"decisions_kept", {"0", "1000"}},
    {"api_token_file", {"\"\""}},
    {"require_token_for_reads", {"true", "false"}},
    {"state_dir", {"/var/lib/ipmanager", "/tmp/x"}},
    {"log_style", {"text", "json"}},
    {"weights", {"{}", "{10.0.3.1: 2, 10.0.3.2: 0}"}},
    {"proxy_allow_clients", {"[]", "[10.0.0.0/8, '::1']"}},
    {"listen",
     {"[{type: mixed, port: 0}]",
      "[{type: socks, host: 0.0.0.0, port: 1080, users: [{name: u, password: p}]}, "
      "{type: tcp, port: 0, sticky: key}]",
      "[{type: mixed, port: 0, sticky: destination}]"}},
    {"egresses",
     {"[{kind: source, address: 127.0.1.1, weight: 3}, {kind: source, interface: lo}]",
      "[{kind: upstream, host: 127.0.0.1, port: 1080, protocol: http, username: u, password: p}]"}},
    {"handshake_timeout", {"10s", "2"}},
    {"allow_open_proxy", {"true", "false"}},
    {"allow_destinations", {"[127.0.0.0/8]", "[\"[::1]:80\", 10.0.0.0/8]", "127.0.0.1:8080"}},
    {"deny_destinations", {"[]", "[192.168.0.0/16:22]"}},
    {"resolver_threads", {"1", "4"}},
    {"source_ip_rules", {"\"\"", "\"/etc/ipmanager/source_ip_rules.json\""}},
    {"max_connections_per_client", {"0", "8"}},
    {"max_connections_per_client_egress", {"0", "2"}},
    {"client_prefix_v4", {"32", "24"}},
    {"client_prefix_v6", {"128", "64"}},
    {"stats_interval", {"0", "30s"}},
    // Gateway mode: values that need no other key (auto-config needs a redirect front end,
    // a DNS port its resolvers and subnets; those combinations are dispatch_config_test's).
    {"gateway_subnets", {"[]", "[10.9.0.0/24, 'fd09::/64']"}},
    {"gateway_auto_config", {"false"}},
    {"gateway_nat_interface", {"\"\""}},
    {"dns_host", {"127.0.0.1", "'::1'"}},
    {"dns_port", {"0", "\"\""}},
    {"dns_upstreams", {"[]", "[192.0.2.53, \"[2001:db8::53]:5353\"]"}},
    {"dns_timeout", {"5s", "2"}},
    {"dns_max_in_flight", {"1", "1024"}},
};

// Front ends and egresses of dispatch mode only make sense together (a config with one and
// not the other is refused): they are drawn as a pair.
constexpr std::array<const char*, 2> kPaired = {"listen", "egresses"};

std::string random_valid_config(std::mt19937& rng) {
  std::string text = "upstream_conf_path: /etc/nginx/pool.conf\n";
  const bool dispatch = rng() % 2 == 0;
  for (const auto& [key, values] : kValid) {
    const bool paired = std::find(kPaired.begin(), kPaired.end(), key) != kPaired.end();
    if (paired ? dispatch : rng() % 2 == 0)
      text += key + ": " + values[rng() % values.size()] + "\n";
  }
  return text;
}

std::string mutate(std::string s, std::mt19937& rng) {
  static const std::string kBytes = ":-[]{}\"' \n\t#,0123456789abcxyz_%\\\x01\xff";
  const int edits = 1 + static_cast<int>(rng() % 4);
  for (int e = 0; e < edits && !s.empty(); ++e) {
    const std::size_t at = rng() % s.size();
    switch (rng() % 3) {
      case 0:
        s[at] = kBytes[rng() % kBytes.size()];
        break;
      case 1:
        s.erase(at, 1 + rng() % 8);
        break;
      default:
        s.insert(at, 1, kBytes[rng() % kBytes.size()]);
        break;
    }
  }
  return s;
}

TEST(RandomConfigTest, table_of_valid_values_covers_every_key) {
  for (const auto& k : ipm::config::schema()) {
    if (k.name != "upstream_conf_path" && k.name != "log_format" && k.name != "max_cool_down") {
      EXPECT_TRUE(kValid.contains(std::string(k.name))) << k.name;
    }
  }
}

TEST(RandomConfigTest, valid_random_configs_load_and_show_themselves_loadably) {
  std::mt19937 rng(20261122);
  int loaded = 0;
  for (int i = 0; i < 1500; ++i) {
    const std::string text = random_valid_config(rng);
    ipm::config::Config c;
    try {
      c = load_text(text, "random.yaml", no_env());
    } catch (const ConfigError& e) {
      // Cross-key rules may refuse a combination; the message names the key.
      const std::string what = e.what();
      ASSERT_FALSE(e.key().empty()) << what << "\n" << text;
      continue;
    }
    ++loaded;
    const std::string shown = boost::json::serialize(ipm::config::to_json(c));
    const auto again = load_text(shown, "shown.json", no_env());
    ASSERT_EQ(boost::json::serialize(ipm::config::to_json(again)), shown) << text;
  }
  EXPECT_GT(loaded, 700);  // cross-key rules refuse some combinations
}

TEST(RandomConfigTest, mutated_configs_load_or_name_the_key_or_the_place) {
  std::mt19937 rng(7);
  int refused = 0;
  int loaded = 0;
  for (int i = 0; i < 4000; ++i) {
    const std::string text = mutate(random_valid_config(rng), rng);
    try {
      load_text(text, "random.yaml", no_env());
      ++loaded;
    } catch (const ConfigError& e) {
      const std::string what = e.what();
      const bool names_a_key = !e.key().empty() && what.starts_with(e.key() + ": ");
      const bool names_a_place = what.find("random.yaml") != std::string::npos;
      ASSERT_TRUE(names_a_key || names_a_place) << what << "\n" << text;
      ++refused;
    } catch (const std::exception& e) {
      FAIL() << "unexpected " << e.what() << " on:\n" << text;
    }
  }
  EXPECT_GT(refused, 500);
  EXPECT_GT(loaded, 50);
}

}  // namespace
