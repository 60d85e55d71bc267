#include "probe/target.hpp"

namespace ipm::probe {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

}  // namespace

std::vector<std::string_view> Target::all(std::string_view name) const {
  std::vector<std::string_view> values;
  for (const auto& [k, v] : params) {
    if (k == name)
      values.emplace_back(v);
  }
  return values;
}

std::optional<std::string> percent_decode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size())
        return std::nullopt;
      const int hi = hex_value(s[i + 1]);
      const int lo = hex_value(s[i + 2]);
      if (hi < 0 || lo < 0)
        return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

std::optional<Target> parse_target(std::string_view target) {
  if (target.empty() || target.front() != '/')
    return std::nullopt;
  // A fragment is never sent by conforming clients; drop it if one is.
  if (const auto hash = target.find('#'); hash != std::string_view::npos)
    target = target.substr(0, hash);

  Target out;
  const auto question = target.find('?');
  auto path = percent_decode(target.substr(0, question), false);
  if (!path)
    return std::nullopt;
  out.path = std::move(*path);
  if (question == std::string_view::npos)
    return out;

  std::string_view query = target.substr(question + 1);
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty())
      continue;
    const auto eq = pair.find('=');
    auto key = percent_decode(pair.substr(0, eq), true);
    auto value = percent_decode(eq == std::string_view::npos ? "" : pair.substr(eq + 1), true);
    if (!key || !value)
      return std::nullopt;
    out.params.emplace_back(std::move(*key), std::move(*value));
  }
  return out;
}

}  // namespace ipm::probe
