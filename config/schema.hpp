#pragma once

#include <functional>
#include <span>
#include <string>
#include <string_view>

#include <boost/json/value.hpp>

#include "config/config.hpp"

namespace YAML {
class Node;
}

namespace ipm::config {

/// One configuration key: how to read it into a Config and how to show it back.
/// The table of these (schema()) is the single source of truth for key names, defaults,
/// validation, the /config view and the README's reference.
struct KeySpec {
  std::string_view name;
  std::string_view doc;  ///< one line for the reference: type, unit and meaning
  /// Reads `node` into `config`; throws ConfigError naming the key on a bad value.
  std::function<void(const YAML::Node& node, Config& config)> read;
  /// The value as the effective config shows it (JSON), in the key's own unit.
  std::function<boost::json::value(const Config& config)> show;
  bool secret = false;      ///< redacted by /config
  bool deprecated = false;  ///< accepted for compatibility and ignored
  /// Copies the key's value between configs (empty for deprecated keys).
  std::function<void(const Config& from, Config& to)> copy{};
  /// True when two configs hold the same value (secrets compared as they are, not redacted).
  std::function<bool(const Config& a, const Config& b)> equal{};
  /// A running process applies a new value on SIGHUP; the other keys need new sockets,
  /// threads or memory and take effect on restart.
  bool live = false;
  /// The value's type for the reference (README, ipmanager(8)): "integer", "duration", ...
  std::string_view type = "string";
};

/// Every key ipmanager knows, in documentation order.
std::span<const KeySpec> schema();

/// The spec of `name`, or nullptr.
const KeySpec* find_key(std::string_view name);

/// The known key closest to `name` by edit distance, or "" when nothing is close.
std::string_view closest_key(std::string_view name);

}  // namespace ipm::config
