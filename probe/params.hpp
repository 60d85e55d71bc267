#pragma once

#include <cstddef>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pool/ip_state.hpp"
#include "probe/message.hpp"
#include "probe/target.hpp"

namespace ipm::probe {

// Query-parameter readers shared by the routes. Each returns the value or a 400 response
// that names the parameter, so a typo (?limt=5) is an error instead of being ignored.

/// 400 when `target` has a parameter not in `allowed`, or a repeated one not in `repeatable`.
std::optional<Response> reject_unknown_params(
    const Target& target, std::initializer_list<std::string_view> allowed,
    std::initializer_list<std::string_view> repeatable = {});

/// A non-negative count (?limit=N), at most `max`; `fallback` when absent.
struct CountParam {
  std::size_t value = 0;
  std::optional<Response> error;
};
CountParam count_param(const Target& target, std::string_view name, std::size_t fallback,
                       std::size_t max);

/// Comma-separated values of every occurrence of `name` (?ip=a,b&ip=c), empty ones dropped.
std::vector<std::string> list_param(const Target& target, std::string_view name);

/// Parses a state name ("available", "cooling", "probation", "banned").
std::optional<pool::IpState> parse_state(std::string_view s);

}  // namespace ipm::probe
