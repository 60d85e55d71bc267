#pragma once

#include <stdexcept>
#include <string>

namespace ipm::config {

/// A configuration problem. `key()` names the offending key ("" for file-level problems,
/// such as a YAML syntax error); what() is the whole one-line message for the operator.
class ConfigError : public std::runtime_error {
 public:
  ConfigError(std::string key, const std::string& message)
      : std::runtime_error(key.empty() ? message : key + ": " + message), key_(std::move(key)) {}

  const std::string& key() const noexcept { return key_; }

 private:
  std::string key_;
};

/// The config file could not be read at all (missing, unreadable). Distinct from a bad
/// config because the command line reports it with its own exit code.
class ConfigFileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace ipm::config
