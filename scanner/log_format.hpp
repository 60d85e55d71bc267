#pragma once

#include <array>
#include <bitset>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace re2 {
class RE2;
}

namespace ipm::scanner {

/// The log fields the scanner uses. Any other `$name` in a format is an opaque field.
enum class LogField : std::uint8_t {
  time_local,       ///< `$time_local`: 22/Nov/2026:02:48:14 +0000
  time_iso8601,     ///< `$time_iso8601`: 2026-11-22T02:48:14+00:00
  msec,             ///< `$msec`: 1795315694.123
  status,           ///< `$status`
  upstream_status,  ///< `$upstream_status`: "200", "502, 200", "502 : 200", "-"
  server_port,      ///< `$server_port`: attributes the line through the upstream map
  server_name,      ///< `$server_name`: the egress IP in the Go tool's pool config
  key,              ///< `$http_x_egress_key`
  target,           ///< `$http_x_egress_host`, or config `target_variable`
  request_time,     ///< `$request_time`
};
inline constexpr std::size_t kLogFieldCount = 10;

/// A log_format the scanner cannot use (bad syntax, no time field, no way to attribute a
/// line to an egress). what() starts with "log_format: " and says what to add.
class LogFormatError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// An nginx log_format compiled once into an anchored RE2 pattern (the parser of record)
/// plus the literal/field layout a hand-written fast path walks. Immutable after compile;
/// safe to share between threads (RE2 matching is thread-safe).
class LogFormat {
 public:
  /// One `$variable` of the format and the literal text that follows it.
  struct Slot {
    std::string variable;               ///< without the `$`
    int field = -1;                     ///< a LogField, or -1 for an opaque field
    bool captured = false;              ///< the first occurrence of a used field
    std::bitset<256> accepts;           ///< bytes the value may contain
    bool at_least_one = false;          ///< the value is never empty
    std::size_t exact_length = 0;       ///< nonzero: the value has exactly this many bytes
    std::string literal_after;          ///< text up to the next variable (or the end)
    bool any_byte_but_literal = false;  ///< accepts every byte except maybe literal_after[0]
  };

  /// Compiles the string after `log_format NAME` (nginx's variable names, no quotes needed).
  /// Quoted nginx syntax ('...' '...', optionally led by `log_format NAME` and
  /// `escape=...`) is accepted too, so a snippet can be pasted from nginx.conf.
  /// Throws LogFormatError: bad `$` syntax, no time field ($time_local, $time_iso8601 or
  /// $msec), or no attribution field ($server_port, or $server_name holding the egress IP).
  /// `target_variable` names the variable that holds a line's target host (config
  /// `target_variable`, by default $http_x_egress_host).
  static LogFormat compile(std::string_view nginx_format,
                           std::string_view target_variable = "http_x_egress_host");

  const std::string& format() const { return format_; }
  /// The RE2 pattern (without anchors: it is matched with ANCHOR_BOTH).
  const std::string& pattern() const { return pattern_; }
  const re2::RE2& regex() const { return *regex_; }
  /// Number of capture groups in the pattern.
  int captures() const { return captures_; }
  /// Capture group (1-based) of a field, 0 when the format does not have it.
  int capture_of(LogField f) const { return capture_[static_cast<std::size_t>(f)]; }
  bool has(LogField f) const { return capture_of(f) != 0; }
  /// The time field lines are timed with: time_local, else time_iso8601, else msec.
  LogField time_field() const { return time_field_; }

  const std::string& leading_literal() const { return leading_; }
  const std::vector<Slot>& slots() const { return slots_; }
  /// The layout has a literal between every two variables, so the fast path can walk it.
  bool fast_path_possible() const { return fast_path_possible_; }

 private:
  LogFormat() = default;

  std::string format_;
  std::string pattern_;
  std::shared_ptr<const re2::RE2> regex_;
  int captures_ = 0;
  std::array<int, kLogFieldCount> capture_{};
  LogField time_field_ = LogField::time_local;
  std::string leading_;
  std::vector<Slot> slots_;
  bool fast_path_possible_ = false;
};

}  // namespace ipm::scanner
