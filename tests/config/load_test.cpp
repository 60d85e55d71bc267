#include "config/load.hpp"

#include <map>
#include <set>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "config/errors.hpp"
#include "config/json_view.hpp"
#include "config/schema.hpp"

namespace {

using ipm::config::Config;
using ipm::config::ConfigError;
using ipm::config::load_text;
using ipm::config::no_env;
using testing::HasSubstr;
using namespace std::chrono_literals;

// The example block of the Go tool's README, as its users have it.
constexpr const char* kGoReadmeConfig = R"({
  "mode": "serve",
  "debug": true,
  "probe_port": "9095",
  "proxy_port": "9096",
  "next": "127.0.0.1",
  "scan_interval_min": 5,
  "access_log_path": "/var/log/nginx/host.access.log",
  "upstream_conf_path": "/etc/nginx/conf.d/001-upstream.conf",
  "max_history_log_each_ip": 1000,
  "max_cool_down_log_each_ip": 1000,
  "cool_down_min": 10,
  "dial_timeout": 15,
  "max_connection_timeout": 100,
  "strategy": "consecutive",
  "consecutive_failure": 3
})";

constexpr const char* kMinimal = "upstream_conf_path: /etc/nginx/conf.d/pool.conf\n";

Config load(const std::string& text) {
  return load_text(text, "test.yaml", no_env());
}

// Loads `text` expecting a ConfigError; returns it so the test can check key and message.
ConfigError load_error(const std::string& text, const ipm::config::EnvLookup& env = no_env()) {
  try {
    load_text(text, "test.yaml", env);
  } catch (const ConfigError& e) {
    return e;
  }
  ADD_FAILURE() << "no error for:\n" << text;
  return ConfigError("", "");
}

TEST(ConfigLoadTest, go_readme_config_loads_unchanged) {
  const Config c = load(kGoReadmeConfig);
  EXPECT_EQ(c.mode, ipm::config::Mode::serve);
  EXPECT_TRUE(c.debug);
  EXPECT_EQ(c.probe_port, 9095);
  EXPECT_EQ(c.proxy_port, 9096);
  EXPECT_EQ(c.next, "127.0.0.1");
  EXPECT_EQ(c.scan_interval, 5min);
  EXPECT_EQ(c.access_log_path, "/var/log/nginx/host.access.log");
  EXPECT_EQ(c.upstream_conf_path, "/etc/nginx/conf.d/001-upstream.conf");
  EXPECT_EQ(c.max_history_log_each_ip, 1000U);
  EXPECT_EQ(c.max_cool_down_log_each_ip, 1000U);
  EXPECT_EQ(c.cool_down, 10min);
  EXPECT_EQ(c.dial_timeout, 15s);
  EXPECT_EQ(c.max_connection_timeout, 100s);
  EXPECT_EQ(c.strategy, "consecutive");
  EXPECT_EQ(c.consecutive_failure, 3U);
}

TEST(ConfigLoadTest, go_example_json_with_fix_port_and_per_ip_logs) {
  const Config c = load(R"({"mode": "parse", "fix_port": "9099", "probe_port": "9091",
    "proxy_port": "18000", "access_log_path": "/var/log/nginx/%s.access.log",
    "upstream_conf_path": "/etc/nginx/conf.d/003-proxies.conf", "cool_down_min": 30,
    "config_path": "/etc/ipmanager/config.json"})");
  EXPECT_EQ(c.mode, ipm::config::Mode::parse);
  EXPECT_EQ(c.fix_port, 9099);
  EXPECT_EQ(c.probe_port, 9091);
  EXPECT_EQ(c.access_log_path, "/var/log/nginx/%s.access.log");
  EXPECT_EQ(c.cool_down, 30min);
}

TEST(ConfigLoadTest, defaults_match_the_go_tool) {
  const Config c = load(kMinimal);
  EXPECT_EQ(c.probe_port, 9095);
  EXPECT_EQ(c.proxy_port, 9096);
  EXPECT_EQ(c.cool_down, 10min);
  EXPECT_EQ(c.dial_timeout, 15s);
  EXPECT_EQ(c.consecutive_failure, 3U);
  EXPECT_EQ(c.failure_window, 5min);
  EXPECT_EQ(c.probe_host, "127.0.0.1");
  EXPECT_EQ(c.proxy_host, "127.0.0.1");
  EXPECT_EQ(c.fix_port, 0);
  EXPECT_TRUE(c.failure_statuses.contains(403));
  EXPECT_TRUE(c.failure_statuses.contains(429));
  EXPECT_TRUE(c.failure_statuses.contains(502));
  EXPECT_FALSE(c.failure_statuses.contains(404));
  EXPECT_FALSE(c.failure_statuses.contains(200));
}

TEST(ConfigLoadTest, durations_take_strings_with_units) {
  const Config c = load(std::string(kMinimal) +
                        "cool_down_min: \"3s\"\ndial_timeout: 250ms\nfailure_window: 2m\n"
                        "scan_interval_min: 1h\nmax_connection_timeout: 0\n");
  EXPECT_EQ(c.cool_down, 3s);
  EXPECT_EQ(c.dial_timeout, 250ms);
  EXPECT_EQ(c.failure_window, 2min);
  EXPECT_EQ(c.scan_interval, 1h);
  EXPECT_EQ(c.max_connection_timeout, 0s);
}

TEST(ConfigLoadTest, failure_statuses_accept_codes_and_classes) {
  const Config c = load(std::string(kMinimal) + "failure_statuses: [403, \"429\", 5xx]\n");
  EXPECT_TRUE(c.failure_statuses.contains(403));
  EXPECT_TRUE(c.failure_statuses.contains(429));
  EXPECT_TRUE(c.failure_statuses.contains(599));
  EXPECT_FALSE(c.failure_statuses.contains(407));
  EXPECT_THAT(c.failure_statuses.spec, testing::ElementsAre("403", "429", "5xx"));
}

struct BadCase {
  const char* yaml;  // appended to kMinimal
  const char* key;
  const char* says;
};

class BadConfigTest : public testing::TestWithParam<BadCase> {};

TEST_P(BadConfigTest, names_the_key_and_the_problem) {
  const BadCase& bad = GetParam();
  const ConfigError e = load_error(std::string(kMinimal) + bad.yaml);
  EXPECT_EQ(e.key(), bad.key) << e.what();
  EXPECT_THAT(e.what(), HasSubstr(bad.key));
  EXPECT_THAT(e.what(), HasSubstr(bad.says));
}

INSTANTIATE_TEST_SUITE_P(
    Rules, BadConfigTest,
    testing::Values(
        BadCase{"consecutive_failure: 0\n", "consecutive_failure", "between 1 and"},
        BadCase{"probe_port: 70000\n", "probe_port", "between 0 and 65535"},
        BadCase{"proxy_port: \"abc\"\n", "proxy_port", "expected a port number"},
        BadCase{"cool_down_min: -5\n", "cool_down_min", "negative"},
        BadCase{"dial_timeout: \"-1s\"\n", "dial_timeout", "negative"},
        BadCase{"dial_timeout: 5 parsecs\n", "dial_timeout", "unknown unit"},
        BadCase{"mode: scan\n", "mode", "not one of: serve, parse"},
        BadCase{"strategy: random\n", "strategy", "not supported"},
        BadCase{"debug: maybe\n", "debug", "true or false"},
        BadCase{"max_history_log_each_ip: 1.5\n", "max_history_log_each_ip", "expected an integer"},
        BadCase{"cool_down_mins: 10\n", "cool_down_mins", "did you mean 'cool_down_min'"},
        BadCase{"consecutive_failures: 3\n", "consecutive_failures",
                "did you mean 'consecutive_failure'"},
        BadCase{"totally_unrelated_key_name: 1\n", "totally_unrelated_key_name", "unknown key"},
        BadCase{"next: [a, b]\n", "next", "expected a string, got a list"},
        BadCase{"next: \"\"\n", "next", "must not be empty"},
        BadCase{"probe_host: localhost.example\n", "probe_host", "not an IP address"},
        BadCase{"failure_statuses: [403, 700]\n", "failure_statuses",
                "'700' is not an HTTP status"},
        BadCase{"failure_statuses: {a: 1}\n", "failure_statuses", "expected a list"},
        BadCase{"max_ejected_percent: 101\n", "max_ejected_percent", "between 0 and 100"},
        BadCase{"probation_share: 0\n", "probation_share", "above"},
        BadCase{"cool_down_jitter: 2\n", "cool_down_jitter", "between"},
        BadCase{"selection: fastest\n", "selection", "not one of"},
        BadCase{"proxy_port: 9095\n", "probe_port", "same port as proxy_port"},
        BadCase{"max_cool_down: 1m\n", "max_cool_down", "shorter than cool_down_min"},
        BadCase{"dial_timeout: 0\n", "dial_timeout", "longer than 0s"},
        BadCase{"mode:\n", "mode", "has no value"},
        BadCase{"metrics_per_ip: some\n", "metrics_per_ip", "not one of: all, unavailable"},
        BadCase{"metrics_history_labels: [ip, host]\n", "metrics_history_labels",
                "'host' is not one of: ip, status_code, target"},
        BadCase{"metrics_history_labels: [ip, ip]\n", "metrics_history_labels", "listed twice"},
        BadCase{"metrics_history_labels: ip\n", "metrics_history_labels", "expected a list"},
        BadCase{"metrics_max_series: -1\n", "metrics_max_series", "between 0 and"}));

TEST(ConfigLoadTest, missing_upstream_conf_path_is_named) {
  const ConfigError e = load_error("mode: serve\n");
  EXPECT_EQ(e.key(), "upstream_conf_path");
  EXPECT_THAT(e.what(), HasSubstr("required"));
}

TEST(ConfigLoadTest, bad_value_message_says_where) {
  const ConfigError e = load_error(std::string(kMinimal) + "\nconsecutive_failure: 0\n");
  EXPECT_THAT(e.what(), HasSubstr("test.yaml:3:1"));
}

TEST(ConfigLoadTest, yaml_syntax_error_gives_line_and_column) {
  const ConfigError e = load_error("upstream_conf_path: /x\nmode: [serve\nnext: a\n");
  EXPECT_THAT(e.what(), HasSubstr("test.yaml:"));
  EXPECT_THAT(e.what(), HasSubstr("syntax error"));
  EXPECT_THAT(e.what(), testing::ContainsRegex("test\\.yaml:[0-9]+:[0-9]+"));
}

TEST(ConfigLoadTest, json_syntax_error_gives_line_and_column) {
  const ConfigError e = load_error("{\n  \"mode\": \"serve\",\n  \"next\": \n");
  EXPECT_THAT(e.what(), testing::ContainsRegex("test\\.yaml:[0-9]+:[0-9]+: syntax error"));
}

TEST(ConfigLoadTest, top_level_must_be_a_mapping) {
  const ConfigError e = load_error("- a\n- b\n");
  EXPECT_THAT(e.what(), HasSubstr("mapping"));
}

TEST(ConfigLoadTest, environment_overrides_one_rule_for_every_key) {
  std::map<std::string, std::string> vars{{"IPM_PROBE_PORT", "9100"},
                                          {"IPM_COOL_DOWN_MIN", "3s"},
                                          {"IPM_API_TOKEN", "s3cret"},
                                          {"IPM_FAILURE_STATUSES", "[429]"}};
  auto env = [&](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end())
      return std::nullopt;
    return it->second;
  };
  const Config c = load_text(std::string(kMinimal) + "probe_port: 9000\n", "test.yaml", env);
  EXPECT_EQ(c.probe_port, 9100);
  EXPECT_EQ(c.cool_down, 3s);
  EXPECT_EQ(c.api_token, "s3cret");
  EXPECT_TRUE(c.failure_statuses.contains(429));
  EXPECT_FALSE(c.failure_statuses.contains(403));
}

TEST(ConfigLoadTest, bad_environment_override_names_variable_and_key) {
  auto env = [](const std::string& name) -> std::optional<std::string> {
    if (name == "IPM_CONSECUTIVE_FAILURE")
      return "zero";
    return std::nullopt;
  };
  const ConfigError e = load_error(kMinimal, env);
  EXPECT_EQ(e.key(), "consecutive_failure");
  EXPECT_THAT(e.what(), HasSubstr("IPM_CONSECUTIVE_FAILURE"));
}

TEST(ConfigLoadTest, env_name_rule) {
  EXPECT_EQ(ipm::config::env_name("probe_port"), "IPM_PROBE_PORT");
  EXPECT_EQ(ipm::config::env_name("max_history_log_each_ip"), "IPM_MAX_HISTORY_LOG_EACH_IP");
}

TEST(ConfigJsonTest, shows_go_keys_in_their_units_and_redacts_secrets) {
  const Config c = load(std::string(kGoReadmeConfig).replace(1, 0, "\"api_token\": \"hunter2\", "));
  const boost::json::object j = ipm::config::to_json(c);
  EXPECT_EQ(j.at("probe_port"), "9095");
  EXPECT_EQ(j.at("cool_down_min"), 10);
  EXPECT_EQ(j.at("dial_timeout"), 15);
  EXPECT_EQ(j.at("failure_window"), "5m");
  EXPECT_EQ(j.at("fix_port"), "");
  EXPECT_EQ(j.at("api_token"), "<redacted>");
  EXPECT_EQ(boost::json::serialize(j).find("hunter2"), std::string::npos);
  EXPECT_FALSE(j.contains("config_path"));
}

TEST(ConfigJsonTest, shown_config_loads_back_to_the_same_config) {
  const Config c =
      load(std::string(kMinimal) + "cool_down_min: 90s\nfailure_statuses: [403, 5xx]\n");
  boost::json::object j = ipm::config::to_json(c);
  j.erase("api_token");  // redacted; it is not meant to round-trip
  const Config back = load(boost::json::serialize(j));
  boost::json::object shown_back = ipm::config::to_json(back);
  shown_back.erase("api_token");
  EXPECT_EQ(shown_back, j);
  EXPECT_EQ(back.cool_down, 90s);
}

TEST(ConfigSchemaTest, copy_carries_every_key_between_configs) {
  // What SIGHUP uses to apply the live keys to the running config.
  const Config from = load(std::string(kMinimal) +
                           "probe_port: 9100\ncool_down_min: 90s\nselection: weighted\n"
                           "failure_statuses: [429]\napi_token: t\nprobation_share: 0.5\n"
                           "all_unavailable: refuse\ndebug: true\n");
  Config to = load(kMinimal);
  for (const auto& k : ipm::config::schema()) {
    EXPECT_EQ(static_cast<bool>(k.copy), !k.deprecated) << k.name;
    if (k.copy)
      k.copy(from, to);
  }
  EXPECT_EQ(ipm::config::to_json(to), ipm::config::to_json(from));
  EXPECT_EQ(to.api_token, "t");
}

TEST(ConfigSchemaTest, every_key_is_documented_and_unique) {
  std::set<std::string_view> names;
  for (const auto& k : ipm::config::schema()) {
    EXPECT_FALSE(k.doc.empty()) << k.name;
    EXPECT_TRUE(names.insert(k.name).second) << "duplicate " << k.name;
  }
  EXPECT_GE(names.size(), 16U);
}

}  // namespace
