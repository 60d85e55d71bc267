#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace ipm::config {

using Millis = std::chrono::milliseconds;

/// Parses a duration written with a unit: "250ms", "5s", "2m", "1h", "1h30m", "1.5s".
/// A bare number ("10", "2.5") is taken in `bare_unit`, the key's own unit.
/// Returns nullopt and sets `why` on anything else, including negative values.
std::optional<Millis> parse_duration(std::string_view text, Millis bare_unit, std::string& why);

/// The shortest exact rendering with units: 90000ms -> "1m30s", 250ms -> "250ms", 0 -> "0s".
std::string format_duration(Millis d);

}  // namespace ipm::config
