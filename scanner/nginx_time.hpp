#pragma once

#include <optional>
#include <string_view>

#include "pool/time.hpp"

namespace ipm::scanner {

/// `$time_local`: "22/Nov/2026:02:48:14 +0000" (the zone is applied). Nothing when the
/// text is not exactly that shape or names an impossible date or time.
std::optional<pool::TimePoint> parse_time_local(std::string_view text);

/// `$time_iso8601`: "2026-11-22T02:48:14+00:00" (also "Z" and fractional seconds).
std::optional<pool::TimePoint> parse_time_iso8601(std::string_view text);

/// `$msec`: seconds since the epoch with millisecond resolution, "1795315694.123".
std::optional<pool::TimePoint> parse_msec(std::string_view text);

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
constexpr long long days_from_civil(int y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return static_cast<long long>(era) * 146097 + static_cast<long long>(doe) - 719468;
}

}  // namespace ipm::scanner
