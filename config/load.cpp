#include "config/load.hpp"

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
  validate(config);
  return config;
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

void validate(const Config& c) {
  if (c.upstream_conf_path.empty()) {
    throw ConfigError("upstream_conf_path",
                      "is required: the nginx config with one server block per egress IP");
  }
  if (c.probe_port == c.proxy_port && c.probe_port != 0 && c.probe_host == c.proxy_host) {
    throw ConfigError("probe_port",
                      "is the same port as proxy_port (" + std::to_string(c.proxy_port) + ")");
  }
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
}

}  // namespace ipm::config
