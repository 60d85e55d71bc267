#include "probe/params.hpp"

#include <algorithm>
#include <charconv>

namespace ipm::probe {

std::optional<Response> reject_unknown_params(const Target& target,
                                              std::initializer_list<std::string_view> allowed,
                                              std::initializer_list<std::string_view> repeatable) {
  for (std::size_t i = 0; i < target.params.size(); ++i) {
    const std::string& name = target.params[i].first;
    if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
      std::string allowed_list;
      for (const auto a : allowed)
        allowed_list += (allowed_list.empty() ? "" : ", ") + std::string(a);
      return error_response(http::status::bad_request,
                            "unknown query parameter '" + name + "'" +
                                (allowed_list.empty() ? std::string(" (this route takes none)")
                                                      : " (known: " + allowed_list + ")"));
    }
    const bool may_repeat =
        std::find(repeatable.begin(), repeatable.end(), name) != repeatable.end();
    if (may_repeat)
      continue;
    for (std::size_t j = 0; j < i; ++j) {
      if (target.params[j].first == name)
        return error_response(http::status::bad_request,
                              "query parameter '" + name + "' is given more than once");
    }
  }
  return std::nullopt;
}

CountParam count_param(const Target& target, std::string_view name, std::size_t fallback,
                       std::size_t max) {
  const auto values = target.all(name);
  if (values.empty())
    return {fallback, std::nullopt};
  const std::string_view text = values.back();
  std::size_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size()) {
    return {
        0, error_response(http::status::bad_request, "query parameter '" + std::string(name) +
                                                         "' must be a non-negative integer, got '" +
                                                         std::string(text) + "'")};
  }
  return {std::min(value, max), std::nullopt};
}

std::vector<std::string> list_param(const Target& target, std::string_view name) {
  std::vector<std::string> out;
  for (std::string_view v : target.all(name)) {
    while (!v.empty()) {
      const auto comma = v.find(',');
      std::string_view item = v.substr(0, comma);
      while (!item.empty() && item.front() == ' ')
        item.remove_prefix(1);
      while (!item.empty() && item.back() == ' ')
        item.remove_suffix(1);
      if (!item.empty())
        out.emplace_back(item);
      v = comma == std::string_view::npos ? std::string_view{} : v.substr(comma + 1);
    }
  }
  return out;
}

std::optional<pool::IpState> parse_state(std::string_view s) {
  for (std::size_t i = 0; i < pool::kIpStateCount; ++i) {
    const auto state = static_cast<pool::IpState>(i);
    if (to_string(state) == s)
      return state;
  }
  return std::nullopt;
}

}  // namespace ipm::probe
