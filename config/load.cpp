#include "config/load.hpp"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "config/errors.hpp"
#include "config/schema.hpp"

namespace ipm::config {
namespace {

std::string where(std::string_view origin, const YAML::Mark& mark) {
  std::string out(origin);
  if (!mark.is_null()) {
    out += ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
  }
  return out;
}

// Applies one key, re-throwing its error with the place it came from.
void apply(const KeySpec& spec, const YAML::Node& value, Config& config, const std::string& place) {
  if (value.IsNull())
    throw ConfigError(std::string(spec.name), place + ": has no value");
  try {
    spec.read(value, config);
  } catch (const ConfigError& e) {
    // Keep the key as the first word of the message; say where it was set after it.
    const std::string message = e.what();
    const std::string prefix = e.key() + ": ";
    const std::string detail =
        message.starts_with(prefix) ? message.substr(prefix.size()) : message;
    throw ConfigError(e.key(), detail + " (" + place + ")");
  }
}

std::string unknown_key_message(const std::string& key) {
  std::string msg = "unknown key";
  const std::string_view suggestion = closest_key(key);
  if (!suggestion.empty())
    msg += "; did you mean '" + std::string(suggestion) + "'?";
  return msg;
}

// api_token_file: the token is the file's content without its trailing newline.
void read_token_file(Config& config) {
  if (config.api_token_file.empty())
    return;
  if (!config.api_token.empty())
    throw ConfigError("api_token_file", "set api_token or api_token_file, not both");
  std::ifstream in(config.api_token_file, std::ios::binary);
  if (!in) {
    throw ConfigError("api_token_file", "cannot read " + config.api_token_file + ": " +
                                            std::generic_category().message(errno));
  }
  std::ostringstream text;
  text << in.rdbuf();
  std::string token = text.str();
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' ' ||
                            token.back() == '\t')) {
    token.pop_back();
  }
  if (token.empty())
    throw ConfigError("api_token_file", config.api_token_file + " is empty");
  config.api_token = std::move(token);
}

}  // namespace

EnvLookup process_env() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (v == nullptr)
      return std::nullopt;
    return std::string(v);
  };
}

EnvLookup no_env() {
  return [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
}

std::string env_name(std::string_view key) {
  std::string name = "IPM_";
  for (char c : key)
    name += static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
  return name;
}

Config load_text(std::string_view text, std::string_view origin, const EnvLookup& env) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::ParserException& e) {
    throw ConfigError("", where(origin, e.mark) + ": syntax error: " + e.msg);
  }

  Config config;
  if (!root.IsNull()) {
    if (!root.IsMap()) {
      throw ConfigError(
          "", std::string(origin) +
                  ": the config must be a mapping of keys to values (YAML or JSON object)");
    }
    for (const auto& entry : root) {
      const YAML::Node& key_node = entry.first;
      const std::string key = key_node.IsScalar() ? key_node.Scalar() : "?";
      const KeySpec* spec = find_key(key);
      const std::string place = where(origin, key_node.Mark());
      if (spec == nullptr)
        throw ConfigError(key, unknown_key_message(key) + " (" + place + ")");
      apply(*spec, entry.second, config, place);
    }
  }

  apply_environment(config, env);
  validate(config);
  return config;
}

void apply_environment(Config& config, const EnvLookup& env) {
  for (const auto& spec : schema()) {
    const std::string name = env_name(spec.name);
    const auto value = env(name);
    if (!value)
      continue;
    YAML::Node node;
    try {
      node = YAML::Load(*value);
    } catch (const YAML::ParserException& e) {
      throw ConfigError(std::string(spec.name), "environment " + name + ": syntax error: " + e.msg);
    }
    // An empty variable means the empty string (api_token=""), not "no value".
    if (node.IsNull())
      node = YAML::Node(*value);
    apply(spec, node, config, "environment " + name);
  }
  read_token_file(config);
}

Config load_file(const std::filesystem::path& path, const EnvLookup& env) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    throw ConfigFileError("cannot read config file " + path.string() + ": is a directory");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw ConfigFileError("cannot read config file " + path.string() + ": " +
                          std::generic_category().message(errno));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad())
    throw ConfigFileError("cannot read config file " + path.string());
  return load_text(text.str(), path.string(), env);
}

namespace {

// Gateway mode's keys go together: rules need a subnet and a redirect port, the DNS forwarder
// resolvers and the clients it answers.
void validate_gateway(const Config& c) {
  const auto front_ends = c.front_ends();
  const auto redirect = std::find_if(front_ends.begin(), front_ends.end(), [](const Listener& l) {
    return l.type == FrontEnd::redirect;
  });
  if (c.gateway_auto_config) {
    if (c.gateway_subnets.empty())
      throw ConfigError("gateway_subnets",
                        "is required with gateway_auto_config: the clients whose traffic the "
                        "rules redirect");
    if (redirect == front_ends.end() || redirect->port == 0)
      throw ConfigError("gateway_auto_config",
                        "needs a redirect front end with a fixed port in listen: (the rules' "
                        "target)");
  }
  if (!c.gateway_nat_interface.empty() && !c.gateway_auto_config)
    throw ConfigError("gateway_nat_interface",
                      "is part of the rules gateway_auto_config installs; set it too, or "
                      "masquerade in your own ruleset");
  if (c.dns_port != 0) {
    if (c.dns_upstreams.empty())
      throw ConfigError("dns_upstreams", "is required with dns_port: the resolvers to relay to");
    if (c.gateway_subnets.empty())
      throw ConfigError("gateway_subnets",
                        "is required with dns_port: the forwarder answers these clients only");
  }
}

}  // namespace

void validate(const Config& c) {
  const auto front_ends = c.front_ends();
  const bool tcp_front_end = std::any_of(front_ends.begin(), front_ends.end(),
                                         [](const Listener& l) { return l.type == FrontEnd::tcp; });
  const bool dispatch_front_end =
      std::any_of(front_ends.begin(), front_ends.end(),
                  [](const Listener& l) { return l.type != FrontEnd::tcp; });
  if (!c.egresses.empty() && !dispatch_front_end) {
    throw ConfigError("listen",
                      "egresses need a socks, http, mixed or redirect front end (the tcp front end "
                      "serves nginx egresses only)");
  }
  if (c.egresses.empty() && dispatch_front_end) {
    throw ConfigError(
        "egresses", "socks, http, mixed and redirect front ends need source or upstream egresses");
  }
  if (c.upstream_conf_path.empty() && (tcp_front_end || c.egresses.empty())) {
    throw ConfigError("upstream_conf_path",
                      "is required: the nginx config with one server block per egress IP "
                      "(or give egresses: and socks/http/mixed front ends in listen:)");
  }
  for (std::size_t i = 0; i < front_ends.size(); ++i) {
    const Listener& l = front_ends[i];
    const std::string key = c.listen.empty() ? "proxy_port" : "listen[" + std::to_string(i) + "]";
    // A redirect front end is no open proxy: it dials only where a redirect rule sent a
    // connection, and a client that connects to it directly names the listener itself,
    // which is refused as a loop. It listens where the clients' gateway address is.
    if (l.type != FrontEnd::tcp && l.type != FrontEnd::redirect && l.users.empty() &&
        !is_loopback_address(l.host) && !c.allow_open_proxy) {
      throw ConfigError(key, "a " + std::string(to_string(l.type)) + " front end on " + l.host +
                                 " without users is an open proxy; add users, listen on "
                                 "127.0.0.1, or set allow_open_proxy: true");
    }
    if (l.port != 0 && l.port == c.probe_port && l.host == c.probe_host) {
      if (c.listen.empty())
        throw ConfigError("probe_port",
                          "is the same port as proxy_port (" + std::to_string(c.proxy_port) + ")");
      throw ConfigError(key, "port " + std::to_string(l.port) + " is the probe_port");
    }
  }
  validate_gateway(c);
  if (c.stats_interval.count() != 0 && c.stats_interval < std::chrono::seconds(1))
    throw ConfigError("stats_interval", "must be 0 (off) or at least 1s");
  if (c.handshake_timeout.count() == 0)
    throw ConfigError("handshake_timeout", "must be longer than 0s");
  if (c.max_cool_down < c.cool_down) {
    throw ConfigError("max_cool_down", format_duration(c.max_cool_down) +
                                           " is shorter than cool_down_min (" +
                                           format_duration(c.cool_down) + ")");
  }
  if (c.failure_window.count() == 0)
    throw ConfigError("failure_window", "must be longer than 0s");
  if (c.dial_timeout.count() == 0)
    throw ConfigError("dial_timeout", "must be longer than 0s");
  if (c.scan_interval.count() == 0)
    throw ConfigError("scan_interval_min", "must be longer than 0s");
  if (c.reconcile_interval.count() == 0) {
    throw ConfigError("reconcile_interval", "must be longer than 0s");
  }
  if (c.failure_statuses.bits.none()) {
    throw ConfigError("failure_statuses", "must name at least one status");
  }
  if (c.failing_sites_to_eject == 1) {
    throw ConfigError("failing_sites_to_eject",
                      "must be 0 (never) or at least 2: one failing site is that site's business");
  }
  if (c.failing_sites_to_eject > c.max_sites_per_ip) {
    throw ConfigError("failing_sites_to_eject",
                      std::to_string(c.failing_sites_to_eject) + " can never be reached: at most " +
                          "max_sites_per_ip (" + std::to_string(c.max_sites_per_ip) +
                          ") sites are tracked per IP");
  }
  const bool variable_name =
      !c.target_variable.empty() &&
      std::all_of(c.target_variable.begin(), c.target_variable.end(), [](char ch) {
        return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
               ch == '_';
      });
  if (!variable_name) {
    throw ConfigError("target_variable",
                      "'" + c.target_variable + "' is not an nginx variable name (without the $)");
  }
}

}  // namespace ipm::config
