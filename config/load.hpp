#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.hpp"

namespace ipm::config {

/// Reads an environment variable; injectable so tests do not touch the process environment.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

/// The process environment.
EnvLookup process_env();

/// No environment at all.
EnvLookup no_env();

/// The environment variable that overrides `key`: "IPM_" + the key in upper case
/// (probe_port -> IPM_PROBE_PORT). Its value is read as a YAML scalar or flow list.
std::string env_name(std::string_view key);

/// Parses YAML (or JSON, which is YAML) config text, applies environment overrides and
/// validates the result. `origin` (a file name) prefixes messages.
/// Throws ConfigError naming the key, or the line and column of a syntax error.
Config load_text(std::string_view text, std::string_view origin, const EnvLookup& env);

/// Applies the IPM_<KEY> environment overrides to `config`, then reads api_token_file
/// (load_text does it; the dispatch command line, which has no file, calls it itself).
/// Throws ConfigError naming the key.
void apply_environment(Config& config, const EnvLookup& env);

/// Reads and loads a config file. Throws ConfigFileError when the file cannot be read and
/// ConfigError when its content is bad.
Config load_file(const std::filesystem::path& path, const EnvLookup& env);

/// Cross-key checks that no single key can make (ports that collide, caps below floors).
/// Throws ConfigError naming the keys.
void validate(const Config& config);

}  // namespace ipm::config
