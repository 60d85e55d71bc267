#include "scanner/nginx_time.hpp"

#include <chrono>
#include <cstring>

namespace ipm::scanner {
namespace {

constexpr long long kMaxSeconds = 7258118400;  // 2200-01-01T00:00:00Z

bool digit(char c) {
  return c >= '0' && c <= '9';
}

/// `n` decimal digits at `p`, or -1.
int number(const char* p, int n) {
  int v = 0;
  for (int i = 0; i < n; ++i) {
    if (!digit(p[i])) {
      return -1;
    }
    v = v * 10 + (p[i] - '0');
  }
  return v;
}

int month_of(const char* p) {
  static constexpr const char* kMonths = "JanFebMarAprMayJunJulAugSepOctNovDec";
  for (int m = 0; m < 12; ++m) {
    if (std::memcmp(p, kMonths + 3 * m, 3) == 0) {
      return m + 1;
    }
  }
  return -1;
}

bool leap(int y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

bool valid_date(int y, int m, int d) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  // Up to 2200: nanosecond time points end in 2262.
  if (y < 1970 || y > 2200 || m < 1 || m > 12 || d < 1) {
    return false;
  }
  return d <= kDays[m - 1] + (m == 2 && leap(y) ? 1 : 0);
}

std::optional<pool::TimePoint> make_time(int y, int mo, int d, int h, int mi, int s,
                                         int offset_minutes) {
  // 60 seconds is allowed: a leap second as nginx may print it.
  if (!valid_date(y, mo, d) || h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 60) {
    return std::nullopt;
  }
  const long long seconds =
      days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * 86400LL +
      h * 3600LL + mi * 60LL + s - offset_minutes * 60LL;
  return pool::TimePoint(
      std::chrono::duration_cast<pool::Clock::duration>(std::chrono::seconds(seconds)));
}

}  // namespace

std::optional<pool::TimePoint> parse_time_local(std::string_view t) {
  // 22/Nov/2026:02:48:14 +0000
  if (t.size() != 26 || t[2] != '/' || t[6] != '/' || t[11] != ':' || t[14] != ':' ||
      t[17] != ':' || t[20] != ' ' || (t[21] != '+' && t[21] != '-')) {
    return std::nullopt;
  }
  const char* p = t.data();
  const int day = number(p, 2);
  const int month = month_of(p + 3);
  const int year = number(p + 7, 4);
  const int hour = number(p + 12, 2);
  const int minute = number(p + 15, 2);
  const int second = number(p + 18, 2);
  const int zh = number(p + 22, 2);
  const int zm = number(p + 24, 2);
  if (day < 0 || month < 0 || year < 0 || hour < 0 || minute < 0 || second < 0 || zh < 0 ||
      zm < 0 || zm > 59) {
    return std::nullopt;
  }
  const int offset = (t[21] == '-' ? -1 : 1) * (zh * 60 + zm);
  return make_time(year, month, day, hour, minute, second, offset);
}

std::optional<pool::TimePoint> parse_time_iso8601(std::string_view t) {
  // 2026-11-22T02:48:14+00:00, 2026-11-22T02:48:14Z, 2026-11-22T02:48:14.123+00:00
  if (t.size() < 20 || t[4] != '-' || t[7] != '-' || t[10] != 'T' || t[13] != ':' || t[16] != ':') {
    return std::nullopt;
  }
  const char* p = t.data();
  const int year = number(p, 4);
  const int month = number(p + 5, 2);
  const int day = number(p + 8, 2);
  const int hour = number(p + 11, 2);
  const int minute = number(p + 14, 2);
  const int second = number(p + 17, 2);
  if (year < 0 || month < 0 || day < 0 || hour < 0 || minute < 0 || second < 0) {
    return std::nullopt;
  }
  std::size_t i = 19;
  long long fraction_ns = 0;
  if (t[i] == '.') {
    long long scale = 100000000;
    for (++i; i < t.size() && digit(t[i]); ++i) {
      fraction_ns += (t[i] - '0') * scale;
      scale /= 10;
    }
  }
  int offset = 0;
  if (i < t.size() && t[i] == 'Z') {
    ++i;
  } else if (i + 6 == t.size() && (t[i] == '+' || t[i] == '-') && t[i + 3] == ':') {
    const int zh = number(p + i + 1, 2);
    const int zm = number(p + i + 4, 2);
    if (zh < 0 || zm < 0 || zm > 59) {
      return std::nullopt;
    }
    offset = (t[i] == '-' ? -1 : 1) * (zh * 60 + zm);
    i += 6;
  } else {
    return std::nullopt;
  }
  if (i != t.size()) {
    return std::nullopt;
  }
  const auto base = make_time(year, month, day, hour, minute, second, offset);
  if (!base) {
    return std::nullopt;
  }
  return *base +
         std::chrono::duration_cast<pool::Clock::duration>(std::chrono::nanoseconds(fraction_ns));
}

std::optional<pool::TimePoint> parse_msec(std::string_view t) {
  long long seconds = 0;
  std::size_t i = 0;
  for (; i < t.size() && digit(t[i]); ++i) {
    if (i >= 10) {  // 10 digits reach 2286; nanosecond time points end in 2262
      return std::nullopt;
    }
    seconds = seconds * 10 + (t[i] - '0');
  }
  if (i == 0) {
    return std::nullopt;
  }
  if (seconds > kMaxSeconds) {
    return std::nullopt;
  }
  long long millis = 0;
  if (i < t.size()) {
    if (t[i] != '.' || t.size() - i != 4) {
      return std::nullopt;
    }
    const int ms = number(t.data() + i + 1, 3);
    if (ms < 0) {
      return std::nullopt;
    }
    millis = ms;
  }
  return pool::TimePoint(std::chrono::duration_cast<pool::Clock::duration>(
      std::chrono::milliseconds(seconds * 1000 + millis)));
}

}  // namespace ipm::scanner
