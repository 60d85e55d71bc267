#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ipm::probe {

/// A request target split into its path and decoded query parameters.
/// "/probe?ip=10.0.0.1%2C10.0.0.2&limit=5" -> path "/probe",
/// params {{"ip","10.0.0.1,10.0.0.2"}, {"limit","5"}}.
struct Target {
  std::string path;
  std::vector<std::pair<std::string, std::string>> params;

  /// Every value of `name`, in order.
  std::vector<std::string_view> all(std::string_view name) const;
};

/// Parses an origin-form target. Returns nullopt for a target that is not origin-form
/// (does not start with '/') or has a bad percent escape.
std::optional<Target> parse_target(std::string_view target);

/// Percent-decodes `s` ('+' is a space in a query). Returns nullopt on a bad escape.
std::optional<std::string> percent_decode(std::string_view s, bool plus_is_space);

}  // namespace ipm::probe
