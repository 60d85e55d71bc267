#include "config/duration.hpp"

#include <array>
#include <cmath>
#include <utility>

namespace ipm::config {
namespace {

struct Unit {
  std::string_view suffix;
  double millis;
};

// Longest suffix first so "ms" is not read as "m" followed by garbage.
constexpr std::array<Unit, 4> kUnits{
    {{"ms", 1.0}, {"h", 3'600'000.0}, {"m", 60'000.0}, {"s", 1'000.0}}};

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// Reads "12" or "1.5" at the front of `s`; advances `s` past it.
std::optional<double> take_number(std::string_view& s) {
  std::size_t i = 0;
  double value = 0;
  bool digits = false;
  while (i < s.size() && is_digit(s[i])) {
    value = value * 10 + (s[i] - '0');
    digits = true;
    ++i;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    double scale = 0.1;
    while (i < s.size() && is_digit(s[i])) {
      value += (s[i] - '0') * scale;
      scale /= 10;
      digits = true;
      ++i;
    }
  }
  if (!digits)
    return std::nullopt;
  s.remove_prefix(i);
  return value;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

}  // namespace

std::optional<Millis> parse_duration(std::string_view text, Millis bare_unit, std::string& why) {
  std::string_view s = trim(text);
  if (s.empty()) {
    why = "empty duration";
    return std::nullopt;
  }
  // Built with append: GCC 12 at -O3 warns (-Wrestrict, a false positive) on "'" + string.
  const auto fail = [&](std::string_view problem) {
    why.assign(1, '\'').append(text).append("' ").append(problem);
    return std::nullopt;
  };
  if (s.front() == '-')
    return fail("is a negative duration");
  if (s.front() == '+')
    s.remove_prefix(1);

  double total_ms = 0;
  bool first = true;
  while (!s.empty()) {
    auto number = take_number(s);
    if (!number)
      return fail("is not a duration (use e.g. 250ms, 5s, 2m, 1h)");
    if (s.empty()) {
      if (!first)
        return fail("has a number without a unit after the first part");
      total_ms = *number * static_cast<double>(bare_unit.count());
      break;
    }
    const Unit* unit = nullptr;
    for (const auto& u : kUnits) {
      if (s.starts_with(u.suffix)) {
        unit = &u;
        break;
      }
    }
    if (unit == nullptr)
      return fail("has an unknown unit (use ms, s, m or h)");
    s.remove_prefix(unit->suffix.size());
    total_ms += *number * unit->millis;
    first = false;
  }
  if (!std::isfinite(total_ms) || total_ms > 1e15)
    return fail("is too long a duration");
  return Millis(static_cast<Millis::rep>(std::llround(total_ms)));
}

std::string format_duration(Millis d) {
  auto ms = d.count();
  if (ms == 0)
    return "0s";
  std::string out;
  if (ms < 0) {
    out = "-";
    ms = -ms;
  }
  constexpr std::array<std::pair<long long, const char*>, 4> parts{
      {{3'600'000, "h"}, {60'000, "m"}, {1'000, "s"}, {1, "ms"}}};
  for (const auto& [size, suffix] : parts) {
    if (ms >= size) {
      out += std::to_string(ms / size) + suffix;
      ms %= size;
    }
  }
  return out;
}

}  // namespace ipm::config
